"""The lead definition: the document marketing and sales agree on, as validated pydantic models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from services.lead_scoring.definitions.agreement import Code, RecyclePolicy, RejectionReason, Sla
from services.lead_scoring.definitions.conditions import Condition, DefinitionPart, FieldPath
from services.lead_scoring.definitions.messages import human_messages

RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64, description="Unique in the definition.")]
Grade = Literal["A", "B", "C", "D"]
GRADES: tuple[Grade, ...] = ("A", "B", "C", "D")
PositiveDays = Annotated[float, Field(gt=0)]


class DefinitionError(ValueError):
    """A lead definition that does not validate; each message names the rule and the field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid lead definition:\n" + "\n".join(f"- {error}" for error in errors))
        self.errors = errors


class FitRule(DefinitionPart):
    """Points for who the contact and account are."""

    id: RuleId
    label: str | None = Field(default=None, description="The rule in words, for the explanation.")
    when: Condition
    points: float = Field(description="Added to the fit score when `when` is true; negative for a poor fit.")


class GradeThresholds(DefinitionPart):
    """Lowest fit score for each grade; below C is D."""

    A: float
    B: float
    C: float

    @model_validator(mode="after")
    def _descending(self) -> GradeThresholds:
        if not self.A > self.B > self.C:
            raise ValueError(f"grades must descend: A > B > C (got A={self.A:g}, B={self.B:g}, C={self.C:g})")
        return self


class FitSection(DefinitionPart):
    """Fit rules and the grades of the fit score."""

    rules: list[FitRule] = Field(default_factory=list)
    grades: GradeThresholds


class TouchMatch(DefinitionPart):
    """Which touches a rule counts: every criterion given must match (one of its values suffices)."""

    touch_types: list[str] | None = Field(default=None, min_length=1)
    channels: list[str] | None = Field(default=None, min_length=1)
    campaigns: list[str] | None = Field(default=None, min_length=1)
    content_tags: list[str] | None = Field(default=None, min_length=1, description="One shared tag suffices.")

    @model_validator(mode="after")
    def _not_empty(self) -> TouchMatch:
        if not (self.touch_types or self.channels or self.campaigns or self.content_tags):
            raise ValueError("needs at least one of `touch_types`, `channels`, `campaigns`, `content_tags`")
        return self


class Cap(DefinitionPart):
    """At most `max_points` (in absolute value) from one rule within any `window_days`."""

    max_points: float = Field(gt=0)
    window_days: PositiveDays


class EngagementRule(DefinitionPart):
    """Points for what the contact did, decayed over time."""

    id: RuleId
    label: str | None = None
    match: TouchMatch
    points: float = Field(description="Per matching touch; negative for unsubscribe, bounce, careers page.")
    cap: Cap | None = None
    half_life_days: PositiveDays | None = Field(default=None, description="Overrides the section's half-life.")
    decay: bool = Field(default=True, description="false: the points never fade.")


class EngagementSection(DefinitionPart):
    """Engagement rules and their default half-life."""

    half_life_days: PositiveDays | None = Field(default=None, description="Default half-life; empty: no decay.")
    rules: list[EngagementRule] = Field(default_factory=list)


class EngagedSection(DefinitionPart):
    """When a contact counts as engaged (stage engaged, and member of the buying committee)."""

    min_engagement_score: float


class RollUp(DefinitionPart):
    """How contact engagement scores combine into the account score."""

    method: Literal["sum_top_n", "max"]
    n: int | None = Field(default=None, ge=1, description="For sum_top_n: how many contacts count.")

    @model_validator(mode="after")
    def _n_for_sum(self) -> RollUp:
        if self.method == "sum_top_n" and self.n is None:
            raise ValueError("`n` is required when method is sum_top_n")
        if self.method == "max" and self.n is not None:
            raise ValueError("`n` only applies to method sum_top_n")
        return self


class Committee(DefinitionPart):
    """What the buying committee needs before an account's lead can qualify."""

    required_roles: list[Code] = Field(default_factory=list, description="Roles an engaged contact must hold.")
    min_engaged_contacts: int = Field(default=0, ge=0)
    require: Literal["all", "any"] = Field(default="all", description="all: both requirements; any: one.")


class AccountSection(DefinitionPart):
    """Account roll-up and buying committee."""

    roll_up: RollUp
    committee: Committee = Field(default_factory=Committee)


class Disqualifier(DefinitionPart):
    """A reason a lead must not go to sales, whatever its score."""

    id: RuleId
    label: str | None = None
    reason_code: Code
    kind: Literal["competitor_domain", "condition", "existing_customer", "no_consent"]
    domains: list[str] | None = Field(default=None, min_length=1, description="competitor_domain: their domains.")
    when: Condition | None = Field(default=None, description="condition: when it disqualifies.")
    field: FieldPath | None = Field(default=None, description="existing_customer: the flag (account.is_customer).")
    require_opt_in: bool = Field(default=False, description="no_consent: unknown consent disqualifies too.")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Disqualifier:
        needs = {"competitor_domain": "domains", "condition": "when"}.get(self.kind)
        if needs and getattr(self, needs) is None:
            raise ValueError(f"`{needs}` is required when kind is {self.kind}")
        for name, kind in (("domains", "competitor_domain"), ("when", "condition"), ("field", "existing_customer")):
            if getattr(self, name) is not None and self.kind != kind:
                raise ValueError(f"`{name}` only applies to kind {kind}")
        if self.require_opt_in and self.kind != "no_consent":
            raise ValueError("`require_opt_in` only applies to kind no_consent")
        return self


class HandRaiser(DefinitionPart):
    """A touch that asks for sales (demo request, contact sales): qualifies at once if the fit is good enough."""

    id: RuleId
    label: str | None = None
    touch_types: list[Code] = Field(min_length=1)
    min_fit_grade: Grade
    within_days: PositiveDays | None = Field(default=None, description="How long the hand-raise stays valid.")


class MqlCriteria(DefinitionPart):
    """What a lead needs to be marketing-qualified."""

    min_fit_grade: Grade
    min_engagement_score: float
    min_account_score: float | None = None
    committee_required: bool = False


class Ranking(DefinitionPart):
    """How fit and engagement combine into the one number leads are ranked by."""

    fit_weight: float = Field(default=1, ge=0, le=1000, description="Multiplies the fit score.")
    engagement_weight: float = Field(default=1, ge=0, le=1000, description="Multiplies the engagement score.")

    def score(self, fit_score: float, engagement_score: float) -> float:
        """The combined score: fit and engagement, each times its weight."""
        return round(self.fit_weight * fit_score + self.engagement_weight * engagement_score, 2) + 0.0


class Republication(DefinitionPart):
    """What publishing this version does to leads an earlier version qualified."""

    open_mqls: Literal["keep", "return_to_engaged"] = Field(
        default="keep",
        description="For open MQLs no handoff has accepted and that this version no longer qualifies: keep them "
        "MQLs (sales keeps them), or return them to engaged (a lead.scored says why). Both sides approve it "
        "with the document. MQLs a handoff accepted are always kept.",
    )


class LeadDefinition(DefinitionPart):
    """The jointly agreed lead definition."""

    name: str = Field(min_length=1)
    description: str = ""
    version: int | None = Field(default=None, ge=1, description="Set by leadflow on publish; empty in drafts.")
    fit: FitSection
    engagement: EngagementSection
    engaged: EngagedSection
    account: AccountSection
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    hand_raisers: list[HandRaiser] = Field(default_factory=list)
    mql: MqlCriteria
    ranking: Ranking = Field(default_factory=Ranking, description="The combined score; fit + engagement if absent.")
    republication: Republication = Field(
        default_factory=Republication, description="What publishing this version does to open MQLs; keep if absent."
    )
    rejection_reasons: list[RejectionReason] = Field(min_length=1)
    sla: Sla
    recycle: dict[Code, RecyclePolicy]

    @model_validator(mode="after")
    def _consistent(self) -> LeadDefinition:
        problems = [*_duplicate_rule_ids(self), *_recycle_problems(self)]
        if self.mql.committee_required and not (
            self.account.committee.required_roles or self.account.committee.min_engaged_contacts
        ):
            problems.append("mql: `committee_required` is true but `account.committee` requires nothing")
        if problems:
            raise ValueError("\n".join(problems))  # one message per line, split again by human_messages
        return self


def _duplicate_rule_ids(definition: LeadDefinition) -> list[str]:
    sections: list[tuple[str, list[Any]]] = [
        ("fit rule", definition.fit.rules),
        ("engagement rule", definition.engagement.rules),
        ("disqualifier", definition.disqualifiers),
        ("hand-raiser", definition.hand_raisers),
    ]
    first_use: dict[str, str] = {}
    problems = []
    for section, rules in sections:
        for position, rule in enumerate(rules, start=1):
            where = f"{section} {position} (`{rule.id}`)"
            if rule.id in first_use:
                problems.append(f"{where}: id `{rule.id}` is already used by {first_use[rule.id]}")
            else:
                first_use[rule.id] = where
    return problems


def _recycle_problems(definition: LeadDefinition) -> list[str]:
    problems = []
    codes: list[str] = []
    for position, reason in enumerate(definition.rejection_reasons, start=1):
        if reason.code in codes:
            problems.append(f"rejection reason {position} (`{reason.code}`): code `{reason.code}` is listed twice")
        codes.append(reason.code)
    for code in definition.recycle:
        if code not in codes:
            problems.append(f"recycle policy for `{code}`: `{code}` is not one of the rejection reasons")
    for code in dict.fromkeys(codes):
        if code not in definition.recycle:
            problems.append(f"recycle: no policy for rejection reason `{code}`")
    return problems


def parse_definition(doc: Mapping[str, Any]) -> LeadDefinition:
    """Validate a definition document (parsed YAML or JSON); raise DefinitionError with readable messages."""
    if not isinstance(doc, Mapping):
        raise DefinitionError([f"the definition must be a mapping of sections (got {type(doc).__name__})"])
    try:
        return LeadDefinition.model_validate(doc)
    except ValidationError as exc:
        raise DefinitionError(human_messages(exc.errors(), doc)) from exc


def load_definition(text: str) -> LeadDefinition:
    """Parse and validate a definition written in YAML (JSON is YAML too)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError([f"not valid YAML: {exc}"]) from exc
    return parse_definition(doc)


def definition_json_schema() -> dict[str, Any]:
    """The JSON Schema of the definition document, for editors and contracts/."""
    schema = LeadDefinition.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "leadflow lead definition"}


def grade_at_least(grade: Grade, minimum: Grade) -> bool:
    """True if `grade` is `minimum` or better (A is best)."""
    return GRADES.index(grade) <= GRADES.index(minimum)
