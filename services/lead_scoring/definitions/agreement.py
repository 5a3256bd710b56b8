"""The sales side of the lead definition: rejection reasons, the SLA and the recycle policy."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, field_validator, model_validator

from services.lead_scoring.definitions.conditions import DefinitionPart

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


def _quoted_time(value: object) -> object:
    # YAML 1.1 reads an unquoted 18:00 as the base-60 number 1080.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'must be a quoted time such as "18:00" (got {value}: YAML reads unquoted 18:00 as 1080)')
    return value


ClockTime = Annotated[time, BeforeValidator(_quoted_time)]


class RejectionReason(DefinitionPart):
    """A reason sales may give to reject a lead, agreed by both sides."""

    code: Code
    label: str = Field(min_length=1)


class BusinessHours(DefinitionPart):
    """The hours the SLA clock runs."""

    timezone: str = Field(description="IANA time zone, e.g. Europe/Paris.")
    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS), min_length=1)
    start: ClockTime = Field(description='Quote it: "09:00".')
    end: ClockTime = Field(description='Quote it: "18:00".')

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"must be an IANA time zone such as Europe/Paris (got {value!r})") from exc
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError(f"`start` must be before `end` (got {self.start:%H:%M} >= {self.end:%H:%M})")
        return self


class Sla(DefinitionPart):
    """How fast sales must accept or reject a handed-off lead, and what happens otherwise."""

    accept_within_business_hours: float = Field(gt=0)
    business_hours: BusinessHours
    on_breach: Literal["escalate", "reassign", "return_to_queue"]


class RecyclePolicy(DefinitionPart):
    """What happens to a lead sales rejected for one reason."""

    action: Literal["nurture", "wait", "disqualify", "close"]
    track_id: str | None = Field(default=None, min_length=1, description="nurture: the track to enroll in.")
    wait_days: int | None = Field(default=None, ge=0, description="nurture, wait: days before it may requalify.")

    @model_validator(mode="after")
    def _fields_of_action(self) -> RecyclePolicy:
        if self.action == "nurture" and self.track_id is None:
            raise ValueError("`track_id` is required when action is nurture")
        if self.action == "wait" and self.wait_days is None:
            raise ValueError("`wait_days` is required when action is wait")
        if self.action != "nurture" and self.track_id is not None:
            raise ValueError("`track_id` only applies to action nurture")
        if self.action in ("disqualify", "close") and self.wait_days is not None:
            raise ValueError(f"`wait_days` does not apply to action {self.action}")
        return self
