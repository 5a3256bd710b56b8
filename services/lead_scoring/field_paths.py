"""What a lead definition can read, and warnings for rules that read a field path or touch type never seen.

A rule on a path nothing ever sets (a typo, or a custom field under the wrong prefix) is valid but never fires:
the definition is accepted with a warning that names the rule, what it reads and the closest known names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from events.catalog.common import ContactTraits
from events.catalog.touches import TOUCH_TYPES
from services.lead_scoring.conditions import FIELD_PATTERN
from services.lead_scoring.definition import LeadDefinition

_TRAIT_PATHS = {
    f"contact.{name}": field.description or name
    for name, field in ContactTraits.model_fields.items()
    if name != "custom"
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
"""Every attribute leadflow itself sets, with what it holds; custom fields add `contact.custom.<name>`."""
CUSTOM_PREFIX = "contact.custom."
_ADDRESSABLE = re.compile(FIELD_PATTERN)


def custom_path(name: str) -> str | None:
    """The path a custom field is read at, or None when its name cannot be written in a rule (spaces, dashes)."""
    path = CUSTOM_PREFIX + name
    return path if _ADDRESSABLE.match(path) else None


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
        elif read.kind == "touch_type" and read.name.casefold() not in folded:
            close = [folded[name] for name in difflib.get_close_matches(read.name.casefold(), list(folded), 3, 0.6)]
        else:
            continue
        warning = FieldWarning(read.rule, read.kind, read.name, tuple(close))
        if warning not in warnings:
            warnings.append(warning)
    return warnings
