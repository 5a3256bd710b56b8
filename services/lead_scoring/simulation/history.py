"""What a simulation replays and what it finds: the stored history of accounts, and the qualifications in a window."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.lead_scoring.definitions.conditions import lookup
from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.scoring.engagement import Touch
from services.lead_scoring.scoring.lifecycle import LeadState
from services.lead_scoring.scoring.rules import Consent

DEFAULT_SEGMENTS = ("account.industry", "account.employee_band")
EMPLOYEE_BANDS = ((5000, "5000+"), (1000, "1000-4999"), (200, "200-999"), (50, "50-199"), (10, "10-49"), (0, "1-9"))


@dataclass(frozen=True)
class Outcome:
    """A sales decision on a lead: accepted, rejected, converted, won or lost, when, and the reason given."""

    outcome: str
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class ContactHistory:
    """A contact as the replay needs it: touches in any order (scoring orders them), each with its source system;
    `consent` as it was before them (an unsubscribe touch sets it)."""

    contact_id: uuid.UUID
    email: str | None
    attributes: Mapping[str, Any]
    consent: Consent
    buying_role: str | None
    touches: tuple[Touch, ...]
    source_systems: tuple[str, ...]
    outcomes: tuple[Outcome, ...] = ()

    def __post_init__(self) -> None:
        if len(self.source_systems) != len(self.touches):
            raise ValueError(f"contact {self.contact_id}: one source system per touch is needed")


@dataclass(frozen=True)
class AccountHistory:
    """An account's attributes and contacts; `attributes` None: contacts without an account, each scored alone."""

    account_id: uuid.UUID | None
    attributes: Mapping[str, Any] | None
    contacts: tuple[ContactHistory, ...]


@dataclass(frozen=True)
class Qualification:
    """A lead that became an MQL: when, why (hand_raiser or criteria), in which cycle, and the touch behind it."""

    contact_id: uuid.UUID
    account_id: uuid.UUID | None
    at: datetime
    reason: str
    cycle: int
    touch_id: str | None
    source_system: str | None
    channel: str | None
    campaign: str | None


@dataclass(frozen=True)
class RuleHits:
    """How many contacts and touches one rule fired on in the replay; touches is None for rules on attributes."""

    rule_id: str
    kind: str  # fit, engagement, disqualifier or hand_raiser
    contacts: int
    touches: int | None

    @property
    def never_fired(self) -> bool:
        """True if the rule fired on no contact: a typo, a path or touch type no data has, or a dead threshold."""
        return self.contacts == 0


@dataclass(frozen=True)
class History:
    """The stored history of a window: accounts (with their contacts, touches and sales outcomes)."""

    accounts: tuple[AccountHistory, ...]

    def touch_count(self) -> int:
        """How many touches the history holds."""
        return sum(len(contact.touches) for account in self.accounts for contact in account.contacts)

    def outcomes(self) -> dict[uuid.UUID, tuple[Outcome, ...]]:
        """Sales outcomes by contact, for `compare`."""
        return {
            contact.contact_id: contact.outcomes
            for account in self.accounts
            for contact in account.contacts
            if contact.outcomes
        }


@dataclass(frozen=True)
class SimulationResult:
    """What a definition would have done in [start, end): its qualifications, counted per week, source, segment."""

    definition_name: str
    definition_version: int | None
    start: datetime
    end: datetime
    touches: int
    evaluations: int
    qualifications: tuple[Qualification, ...]
    per_week: Mapping[str, int]
    per_source_system: Mapping[str, int]
    per_channel: Mapping[str, int]
    per_campaign: Mapping[str, int]
    per_segment: Mapping[str, Mapping[str, int]]
    rule_hits: tuple[RuleHits, ...] = ()
    leads: Mapping[uuid.UUID, LeadState] = field(default_factory=dict)  # every lead's final state in the replay

    def qualified_leads(self) -> frozenset[uuid.UUID]:
        """The contacts that qualified at least once in the window."""
        return frozenset(qualification.contact_id for qualification in self.qualifications)


def summarise(
    definition: LeadDefinition,
    start: datetime,
    end: datetime,
    touches: int,
    evaluations: int,
    found: Iterable[Qualification],
    segment_values: Mapping[uuid.UUID, tuple[str, ...]],
    segments: Sequence[str],
    hits: Mapping[str, Sequence[int]] | None = None,
) -> SimulationResult:
    """Count the qualifications per ISO week, source system, channel, campaign and segment; and each rule's hits
    (`hits`: rule id -> [contacts, touches]), in definition order, a rule that never fired included."""
    ordered = tuple(sorted(found, key=lambda q: (q.at, str(q.contact_id))))
    return SimulationResult(
        definition_name=definition.name,
        definition_version=definition.version,
        start=start,
        end=end,
        touches=touches,
        evaluations=evaluations,
        qualifications=ordered,
        per_week=_count(iso_week(q.at) for q in ordered),
        per_source_system=_count(q.source_system or "unknown" for q in ordered),
        per_channel=_count(q.channel or "unknown" for q in ordered),
        per_campaign=_count(q.campaign or "none" for q in ordered),
        per_segment={
            name: _count(segment_values[q.contact_id][position] for q in ordered)
            for position, name in enumerate(segments)
        },
        rule_hits=rule_hits(definition, hits or {}),
    )


def rule_hits(definition: LeadDefinition, hits: Mapping[str, Sequence[int]]) -> tuple[RuleHits, ...]:
    """Each rule of the definition with the contacts and touches it fired on (zero when it never fired)."""
    kinds: list[tuple[str, Sequence[Any]]] = [
        ("fit", definition.fit.rules),
        ("engagement", definition.engagement.rules),
        ("disqualifier", definition.disqualifiers),
        ("hand_raiser", definition.hand_raisers),
    ]
    return tuple(
        RuleHits(
            rule_id=rule.id,
            kind=kind,
            contacts=hits.get(rule.id, (0, 0))[0],
            touches=hits.get(rule.id, (0, 0))[1] if kind in ("engagement", "hand_raiser") else None,
        )
        for kind, rules in kinds
        for rule in rules
    )


def _count(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def iso_week(moment: datetime) -> str:
    """The ISO week of a moment in UTC, e.g. 2026-W02."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def segments_of(
    account: AccountHistory, contact_ids: set[uuid.UUID], segments: Sequence[str]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """The segment values of some contacts of an account."""
    return {
        contact.contact_id: tuple(segment_value(name, contact.attributes, account.attributes) for name in segments)
        for contact in account.contacts
        if contact.contact_id in contact_ids
    }


def segment_value(name: str, contact: Mapping[str, Any], account: Mapping[str, Any] | None) -> str:
    """A lead's segment: an attribute's value (account.industry, contact.country ...) or account.employee_band."""
    if name == "account.employee_band":
        return employee_band(lookup("account.employees", contact, account))
    value = lookup(name, contact, account)
    if isinstance(value, str) and value.strip():
        return value.strip().casefold()  # as conditions compare text: Software and software are one segment
    if isinstance(value, bool | int | float):
        return str(value)
    return "unknown"


def employee_band(employees: object) -> str:
    """The headcount band of an account: 1-9, 10-49, 50-199, 200-999, 1000-4999, 5000+ (or unknown)."""
    try:
        count = float(employees)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "unknown"
    if isinstance(employees, bool) or count < 1:
        return "unknown"
    return next(band for floor, band in EMPLOYEE_BANDS if count >= floor)
