"""The routing configuration document: calendars, teams, reps and ordered rules (YAML on disk, JSON over the API).

Pure: pydantic models and their JSON Schema. A rep is keyed by their email (stored lower-case); their id is the
uuid5 of it, so the same person keeps the same id across versions and databases. Checks that span sections
(an unknown team, a rule naming an unknown rep) are in services.handoff.org.checks.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from calendars import CalendarSpec
from events.limits import ACCOUNT_KEY, LABEL, Name200, Note, Text200
from services.handoff.routing.model import LeadField

SCHEMA_ID = "contracts/routing.schema.json"
# Rep ids are uuid5(REP_NAMESPACE, email): stable, so routing pointers and handoffs survive a re-import.
REP_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/routing/rep")
MAX_REPS = 2_000  # with MAX_TEAMS and MAX_RULES, a document fits the API's 1 MiB body limit
MAX_RULES = 1_000
MAX_TEAMS = 500

Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=ACCOUNT_KEY,
        pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$",
        description="An email address; the rep's stable key (compared and stored lower-case).",
    ),
]
Key = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64, description="A name: lower-case letters, digits, _ and -."),
]
Domain = Annotated[
    str, Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", max_length=253, description="An email domain, lower-case.")
]
Value = Annotated[str, Field(min_length=1, max_length=LABEL)]


def rep_id(email: str) -> uuid.UUID:
    """The stable id of the rep with this email."""
    return uuid.uuid5(REP_NAMESPACE, email.casefold())


class Part(BaseModel):
    """A part of the document: unknown fields are refused, so a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TeamSpec(Part):
    """A sales team: its manager and the region it covers."""

    name: Key
    label: Text200 | None = Field(default=None, description="The team's name as people say it.")
    manager: Email | None = Field(default=None, description="Email of the team's manager (a rep with role manager).")
    region: Text200 | None = Field(default=None, description="The territory it covers, e.g. EMEA.")

    @field_validator("manager")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.casefold() if value else value


class AbsenceSpec(Part):
    """An out-of-office period, [start, end)."""

    start: AwareDatetime
    end: AwareDatetime
    note: Text200 | None = None

    @model_validator(mode="after")
    def _ordered(self) -> AbsenceSpec:
        if self.end <= self.start:
            raise ValueError(f"end {self.end.isoformat()} must be after start {self.start.isoformat()}")
        return self


class RepSpec(Part):
    """A sales rep or manager: team, calendar, capacity, round-robin weight, absences, accounts owned."""

    email: Email
    name: Name200
    team: Key
    role: Literal["rep", "manager"] = "rep"
    calendar: Key = Field(description="The name of a calendar of this document: the rep's working hours.")
    max_open: int = Field(default=20, ge=0, le=10_000, description="Most open handoffs not yet accepted.")
    max_new_per_day: int = Field(default=10, ge=0, le=10_000, description="Most handoffs assigned per day.")
    weight: float = Field(
        default=1.0, gt=0, le=1_000, allow_inf_nan=False, description="Round-robin share: 2 gets twice as many as 1."
    )
    out_of_office: list[AbsenceSpec] = Field(default_factory=list, max_length=1_000)
    active: bool = True
    owns_accounts: list[Domain] = Field(
        default_factory=list,
        max_length=10_000,
        description="Email domains of accounts this rep owns (as a CRM owner): their leads go to this rep first.",
    )

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.casefold()


class ConditionSpec(Part):
    """A test of one lead field: `eq` one value or `in` a list of values (case-insensitive)."""

    field: LeadField
    eq: Value | None = None
    in_: list[Value] | None = Field(default=None, alias="in", min_length=1, max_length=1_000)

    @model_validator(mode="after")
    def _one_test(self) -> ConditionSpec:
        if (self.eq is None) == (self.in_ is None):
            raise ValueError("give exactly one of `eq` (a value) or `in` (a list of values)")
        return self

    def values(self) -> tuple[str, ...]:
        """The values the field is compared with."""
        return (self.eq,) if self.eq is not None else tuple(self.in_ or ())


class TargetSpec(Part):
    """Where a matching rule sends the lead: one rep, a team's round-robin pool, or the unrouted queue."""

    kind: Literal["rep", "pool", "unrouted"]
    rep: Email | None = Field(default=None, description="With kind rep: the rep's email.")
    team: Key | None = Field(default=None, description="With kind pool: the team whose reps share the leads.")

    @field_validator("rep")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.casefold() if value else value

    @model_validator(mode="after")
    def _complete(self) -> TargetSpec:
        if self.kind == "rep" and (self.rep is None or self.team is not None):
            raise ValueError("kind rep needs `rep` (an email) and no `team`")
        if self.kind == "pool" and (self.team is None or self.rep is not None):
            raise ValueError("kind pool needs `team` and no `rep`")
        if self.kind == "unrouted" and (self.rep is not None or self.team is not None):
            raise ValueError("kind unrouted takes neither `rep` nor `team`")
        return self


class RuleSpec(Part):
    """An ordered rule: all its conditions must match (none: it matches every lead); the first match decides."""

    name: Name200
    conditions: list[ConditionSpec] = Field(default_factory=list, max_length=50)
    target: TargetSpec
    respect_working_hours: bool = Field(
        default=False, description="Skip reps outside their calendar's working hours when picking from a pool."
    )


class RoutingDocument(Part):
    """The sales org as routing reads it: calendars by name, teams, reps and the ordered routing rules."""

    model_config = ConfigDict(title="leadflow routing configuration")

    calendars: dict[Key, CalendarSpec] = Field(description="Business calendars by name (see calendar.schema.json).")
    teams: list[TeamSpec] = Field(max_length=MAX_TEAMS)
    reps: list[RepSpec] = Field(max_length=MAX_REPS)
    rules: list[RuleSpec] = Field(max_length=MAX_RULES, description="Tried in order; the first that matches decides.")
    description: Note | None = Field(default=None, description="What this configuration is, for the people editing it.")

    def dump(self) -> dict[str, Any]:
        """The JSON form, as stored and answered (aliases such as `in`, unset optional fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class DocumentProblem(BaseModel):
    """One problem of a document: the dotted path of the field, and a message naming the rule or rep."""

    field: str
    message: str


class RoutingDocumentError(ValueError):
    """A routing document that cannot be saved; `problems` names each field and the reason."""

    def __init__(self, problems: list[DocumentProblem]) -> None:
        super().__init__("invalid routing configuration:\n" + "\n".join(f"- {p.message}" for p in problems))
        self.problems = problems


def parse_document(raw: Any) -> RoutingDocument:
    """Validate a parsed YAML or JSON document; RoutingDocumentError names each rule or rep and field."""
    if not isinstance(raw, dict):
        problem = DocumentProblem(field="body", message=f"the document must be a mapping (got {type(raw).__name__})")
        raise RoutingDocumentError([problem])
    try:
        return RoutingDocument.model_validate(raw)
    except ValidationError as exc:
        raise RoutingDocumentError([_problem(error["loc"], error["msg"], raw) for error in exc.errors()]) from None


def _problem(loc: tuple[int | str, ...], message: str, raw: dict[str, Any]) -> DocumentProblem:
    field = ".".join(str(part) for part in loc)
    message = message.removeprefix("Value error, ")
    return DocumentProblem(field=field, message=f"{where(loc, raw)}: {_path(loc[2:]) or '(itself)'}: {message}")


def where(loc: tuple[int | str, ...], raw: Any) -> str:
    """How a person calls the part at `loc`: "rule 3 (EMEA enterprise)", "rep ana@example.com", "team emea"."""
    if len(loc) < 2:
        return "the document"
    section, key = loc[0], loc[1]
    if section == "calendars":
        return f"calendar {key}"
    item = _item(raw, section, key)
    if section == "rules" and isinstance(key, int):
        return f"rule {key + 1}" + (f" ({item['name']})" if isinstance(item.get("name"), str) else "")
    label = {"reps": ("rep", "email"), "teams": ("team", "name")}.get(str(section))
    if label is None:
        return str(section)
    named = item.get(label[1])
    return f"{label[0]} {named}" if isinstance(named, str) else f"{label[0]} {section}[{key}]"


def _item(raw: Any, section: int | str, key: int | str) -> dict[str, Any]:
    items = raw.get(section) if isinstance(raw, dict) else None
    item = items[key] if isinstance(items, list) and isinstance(key, int) and 0 <= key < len(items) else None
    return dict(item) if isinstance(item, dict) else {}


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def routing_json_schema() -> dict[str, Any]:
    """The JSON Schema of the document, as committed in contracts/routing.schema.json."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **RoutingDocument.model_json_schema(by_alias=True),
    }
