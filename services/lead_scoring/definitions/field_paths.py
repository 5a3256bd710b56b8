"""What a lead definition can read, and warnings for rules that read a field path or touch type never seen.

A rule on a path nothing ever sets (a typo, or `contact.custom.<name>` for a custom field read at `contact.<name>`) is
valid but never fires: the definition is accepted with a warning naming the rule, what it reads and the closest known
names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from events.catalog.common import ContactTraits
from events.catalog.touches import TOUCH_TYPES
from services.lead_scoring.definitions.conditions import CUSTOM, NAMED_CONTACT_FIELDS
from services.lead_scoring.definitions.document import LeadDefinition

_TRAIT_PATHS = {
    f"contact.{name}": field.description or name for name, field in ContactTraits.model_fields.items() if name != CUSTOM
}
CONTACT_PATHS: dict[str, str] = {
    **_TRAIT_PATHS,
    "contact.email": "Email address, normalised (lower case, no plus-address).",
    "contact.email_domain": "The domain of the email address, e.g. acme-robotics.com.",
    "contact.buying_role": "Their role in the buying committee, as sales logged it.",
}
ACCOUNT_PATHS: dict[str, str] = {
    "account.domain": "The account's web domain (from a corporate email or the sender's hint).",
    "account.name": "Company name as first learned.",
    "account.industry": "Industry, from the contact's traits.",
    "account.employees": "Headcount, from the contact's traits.",
    "account.country": "ISO 3166-1 alpha-2 country, from the contact's traits.",
}
FIXED_PATHS: dict[str, str] = {**CONTACT_PATHS, **ACCOUNT_PATHS}
"""Every attribute leadflow itself sets, with what it holds; custom fields add `contact.<name>`."""
_CUSTOM_PREFIX = f"contact.{CUSTOM}."
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # one segment of FIELD_PATTERN: "a.b" would read a nested value


def custom_path(name: str) -> str | None:
    """The path a rule reads a custom field at, or None when its name cannot be written in a rule (spaces, dashes).

    `contact.<name>`, unless a named attribute shadows it (Mautic's `title`, a salutation): `contact.custom.<name>`.
    """
    if not _NAME.match(name):
        return None
    return f"contact.{CUSTOM}.{name}" if name in NAMED_CONTACT_FIELDS else f"contact.{name}"


def describe(path: str) -> str:
    """What a known path holds: leadflow's own attributes as FIXED_PATHS says, else a custom field."""
    if path in FIXED_PATHS:
        return FIXED_PATHS[path]
    if path.startswith(_CUSTOM_PREFIX):
        named = "contact." + path.removeprefix(_CUSTOM_PREFIX)
        return f"A custom field of the sending system, named like `{named}`, which it never replaces."
    return "A custom field of the sending system."


@dataclass(frozen=True)
class Read:
    """One thing a rule reads: a field path or a touch type."""

    rule: str
    kind: str  # "path" or "touch_type"
    name: str


@dataclass(frozen=True)
class FieldWarning:
    """A rule reads something never seen: it is valid, and will not fire until such data arrives."""

    rule: str
    kind: str
    name: str
    suggestions: tuple[str, ...]

    @property
    def message(self) -> str:
        """The warning in words, naming the rule, what it reads and the closest known names."""
        noun = "field path" if self.kind == "path" else "touch type"
        text = f"{self.rule}: {noun} `{self.name}` has never been seen, so this rule cannot fire"
        if self.suggestions:
            return text + "; closest known: " + ", ".join(f"`{name}`" for name in self.suggestions)
        return text + "; no known name is close (GET /v1/definitions/fields lists them)"


def reads(definition: LeadDefinition) -> list[Read]:
    """Every field path and touch type the definition's rules read, named by rule, in document order."""
    found: list[Read] = []
    for position, fit in enumerate(definition.fit.rules, start=1):
        found += [Read(f"fit rule {position} (`{fit.id}`)", "path", path) for path in sorted(fit.when.fields)]
    for position, rule in enumerate(definition.engagement.rules, start=1):
        found += [
            Read(f"engagement rule {position} (`{rule.id}`)", "touch_type", kind)
            for kind in rule.match.touch_types or ()
        ]
    for position, disqualifier in enumerate(definition.disqualifiers, start=1):
        where = f"disqualifier {position} (`{disqualifier.id}`)"
        if disqualifier.when is not None:
            found += [Read(where, "path", path) for path in sorted(disqualifier.when.fields)]
        if disqualifier.kind == "existing_customer":
            found.append(Read(where, "path", disqualifier.field or "account.is_customer"))
    for position, raiser in enumerate(definition.hand_raisers, start=1):
        found += [Read(f"hand-raiser {position} (`{raiser.id}`)", "touch_type", kind) for kind in raiser.touch_types]
    return found


def known_paths(custom_seen: Iterable[str]) -> list[str]:
    """The fixed paths and the custom fields seen so far, sorted."""
    return sorted({*FIXED_PATHS, *custom_seen})


def known_touch_types(seen: Iterable[str]) -> list[str]:
    """The catalog's touch types and those seen so far, sorted."""
    return sorted({*TOUCH_TYPES, *seen})


def field_warnings(
    definition: LeadDefinition, paths: Collection[str], touch_types: Collection[str]
) -> list[FieldWarning]:
    """A warning per rule that reads a path or touch type not among the known ones, with up to 3 close names."""
    folded = {kind.casefold(): kind for kind in touch_types}  # touch types match ignoring case
    warnings: list[FieldWarning] = []
    for read in reads(definition):
        if read.kind == "path" and read.name not in paths:
            close = difflib.get_close_matches(read.name, list(paths), n=3, cutoff=0.6)
            # contact.custom.<name> for a custom field read at contact.<name>: that one first, whatever the spelling
            # distance to the others.
            readable = "contact." + read.name.removeprefix(_CUSTOM_PREFIX)
            if read.name.startswith(_CUSTOM_PREFIX) and readable in paths:
                close = [readable, *(name for name in close if name != readable)][:3]
        elif read.kind == "touch_type" and read.name.casefold() not in folded:
            close = [folded[name] for name in difflib.get_close_matches(read.name.casefold(), list(folded), 3, 0.6)]
        else:
            continue
        warning = FieldWarning(read.rule, read.kind, read.name, tuple(close))
        if warning not in warnings:
            warnings.append(warning)
    return warnings
