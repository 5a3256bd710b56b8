"""The nurture track document and the nurture settings beside it, as validated pydantic models.

A file of nurture tracks (YAML on disk, JSON over the API) holds the shared settings (calendars, the frequency
caps and quiet hours per contact across all tracks, the default time zone) and the tracks. Checks that need
more than one field (step references, calendars a wait names) are made when a track is compiled.
"""

from __future__ import annotations

import typing
from datetime import time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from calendars.config import CalendarSpec

TrackKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_-]*$",
        max_length=200,
        description="The track's key, e.g. awareness; names the track in every event, stable across versions.",
    ),
]
StepId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64, description="Unique in the track.")]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
CalendarName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Stage = Literal["raw", "engaged"]
Grade = Literal["A", "B", "C", "D"]
Channel = Literal["email", "ad_audience", "sales_task", "webhook"]
ExitReason = Literal["qualified", "disqualified", "unsubscribed", "erased", "handed_off", "converted"]
EXIT_REASONS: tuple[ExitReason, ...] = typing.get_args(ExitReason)
# Consent and erasure are the law, not a choice of the track: a track may not stay deaf to them.
MANDATORY_EXITS: tuple[ExitReason, ...] = ("unsubscribed", "erased")
FINISHED = "exhausted"
"""The exit reason recorded when a lead has taken every step: it waits for new content or another track."""
QUIET_CHANNELS: tuple[Channel, ...] = ("email", "sales_task")  # an ad audience or a webhook wakes nobody
MAX_DAYS = 3660  # ten years: no nurture wait, window or cooldown is longer


def _quoted_time(value: object) -> object:
    # YAML 1.1 reads an unquoted 18:00 as the base-60 number 1080.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'must be a quoted time such as "18:00" (got {value}: YAML reads unquoted 18:00 as 1080)')
    return value


ClockTime = Annotated[time, BeforeValidator(_quoted_time), Field(description='Local wall time; quote it: "10:00".')]


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"must be an IANA time zone such as Europe/Paris (got {value!r})") from exc
    return value


class TrackPart(BaseModel):
    """A part of a track document: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class EmployeeBand(TrackPart):
    """A headcount range, both ends included; an end left out is open."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> EmployeeBand:
        if self.min is None and self.max is None:
            raise ValueError("needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` must be <= `max` (got {self.min} > {self.max})")
        return self


class Criteria(TrackPart):
    """Who matches: every criterion given must hold; within a list, one value suffices."""

    stages: list[Stage] | None = Field(default=None, min_length=1, description="Lifecycle stages: raw, engaged.")
    fit_grades: list[Grade] | None = Field(default=None, min_length=1)
    industries: list[Label] | None = Field(default=None, min_length=1, description="Compared ignoring case.")
    employee_band: EmployeeBand | None = None
    countries: list[Country] | None = Field(default=None, min_length=1)
    buying_roles: list[Code] | None = Field(
        default=None, min_length=1, description="Known buying roles, e.g. economic_buyer, user; unknown never matches."
    )
    recycle_reasons: list[Code] | None = Field(
        default=None, min_length=1, description="Only leads sales sent back for one of these reasons, e.g. bad_timing."
    )
    sources: list[Label] | None = Field(default=None, min_length=1, description="The lead's source, e.g. webinar.")
    campaigns: list[Label] | None = Field(default=None, min_length=1, description="A campaign the lead touched.")


class SkipCondition(Criteria):
    """When a step is skipped (its action not taken), judged when the step comes due."""

    engaged_with: list[Label] | None = Field(
        default=None, min_length=1, description="Content ids: skip if the contact already engaged with one of them."
    )


class Wait(TrackPart):
    """How long before the step's action: a duration or N business days, then optionally a time of day."""

    duration: timedelta | None = Field(
        default=None, description='ISO 8601 (e.g. "P2D", "PT4H") or seconds; counted in real time.'
    )
    business_days: int | None = Field(
        default=None, ge=1, le=MAX_DAYS, description="Business days on `calendar`, at the same wall time."
    )
    calendar: CalendarName | None = Field(default=None, description="A calendar of the nurture settings.")
    at: ClockTime | None = Field(
        default=None, description="Then the next occurrence of this time of day in the contact's time zone."
    )

    @field_validator("duration")
    @classmethod
    def _bounded(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and not timedelta(0) <= value <= timedelta(days=MAX_DAYS):
            raise ValueError(f"must be between 0 and {MAX_DAYS} days (got {value})")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Wait:
        if self.duration is not None and self.business_days is not None:
            raise ValueError("give `duration` or `business_days`, not both")
        if self.business_days is not None and self.calendar is None:
            raise ValueError("`calendar` is required with `business_days`")
        if self.calendar is not None and self.business_days is None:
            raise ValueError("`calendar` only applies with `business_days`")
        return self


class Action(TrackPart):
    """What marketing automation is asked to do when the step comes due."""

    channel: Channel
    content_id: Label = Field(description="The content's id in marketing automation.")
    message: str | None = Field(default=None, max_length=1000, description="A note for marketing automation.")
    content_title: str | None = Field(default=None, max_length=1000)
    content_url: str | None = Field(default=None, max_length=2048)
    template_id: str | None = Field(default=None, max_length=200)


class Branch(TrackPart):
    """Wait for engagement with this step's content: engaged within N days goes on, else the alternate step."""

    within_days: float = Field(gt=0, le=MAX_DAYS)
    otherwise: StepId | Literal["end"] = Field(description='A later step\'s id, or "end" (the track is finished).')


class Step(TrackPart):
    """A wait, then an action; optionally skipped, optionally followed by a wait for engagement."""

    id: StepId
    wait: Wait = Field(default_factory=Wait, description="Empty: the action is due at once.")
    action: Action
    skip_if: SkipCondition | None = None
    branch: Branch | None = None
    next: StepId | Literal["end"] | None = Field(
        default=None, description='The step after this one: a later step\'s id or "end"; empty: the next in order.'
    )


class Reentry(TrackPart):
    """Whether a lead may enter this track again after leaving it, and after how long."""

    allowed: bool = False
    cooldown_days: float = Field(default=0, ge=0, le=MAX_DAYS, description="Days after leaving before re-entry.")


class TrackDocument(TrackPart):
    """A nurture track: who enters, the steps they receive, when they leave."""

    key: TrackKey
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    priority: int = Field(default=0, ge=-1000, le=1000, description="Higher wins when several tracks match.")
    entry: Criteria = Field(description="Who enters: an empty mapping lets every raw or engaged lead in.")
    steps: list[Step] = Field(min_length=1, max_length=100)
    exit_on: list[ExitReason] = Field(
        default_factory=lambda: list(EXIT_REASONS),
        description="Facts that end an enrollment at once; unsubscribed and erased always do. "
        f"Finishing the steps is recorded as `{FINISHED}`.",
    )
    reentry: Reentry = Field(default_factory=Reentry)

    @model_validator(mode="after")
    def _exits_keep_consent(self) -> TrackDocument:
        missing = [reason for reason in MANDATORY_EXITS if reason not in self.exit_on]
        if missing:
            raise ValueError(f"`exit_on` must include {' and '.join(missing)}: consent is not optional")
        return self


class Cap(TrackPart):
    """At most `max_actions` actions of a channel per contact within any `window_days`, across all tracks."""

    channel: Channel
    max_actions: int = Field(ge=1, le=1000)
    window_days: float = Field(gt=0, le=MAX_DAYS)


class QuietHours(TrackPart):
    """No action at night in the contact's time zone: from `start` to `end` (across midnight when end < start)."""

    start: ClockTime
    end: ClockTime
    channels: list[Channel] = Field(
        default_factory=lambda: list(QUIET_CHANNELS), min_length=1, description="The channels kept quiet."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError(f"`start` and `end` must differ (both {self.start:%H:%M})")
        return self


class NurtureSettings(TrackPart):
    """What all tracks share: calendars, caps and quiet hours per contact, the default time zone."""

    default_time_zone: str = Field(default="UTC", description="For contacts whose time zone is unknown (IANA name).")
    calendars: dict[CalendarName, CalendarSpec] = Field(default_factory=dict)
    caps: list[Cap] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None

    @field_validator("default_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _known_zone(value)

    @model_validator(mode="after")
    def _one_cap_per_channel(self) -> NurtureSettings:
        seen: set[str] = set()
        for position, cap in enumerate(self.caps, start=1):
            if cap.channel in seen:
                raise ValueError(f"cap {position}: channel `{cap.channel}` already has a cap")
            seen.add(cap.channel)
        return self


class NurtureFile(NurtureSettings):
    """A file of nurture tracks: the shared settings at the top, then the tracks."""

    tracks: list[TrackDocument] = Field(default_factory=list)

    def settings(self) -> NurtureSettings:
        """The settings part of the file."""
        return NurtureSettings.model_validate(self.model_dump(exclude={"tracks"}))


def nurture_track_json_schema() -> dict[str, Any]:
    """The JSON Schema of a file of nurture tracks (a track alone is `$defs/TrackDocument`), for contracts/."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "contracts/nurture_track.schema.json",
        **NurtureFile.model_json_schema(),
        "title": "leadflow nurture tracks",
    }
