"""Which track a lead enters, and whether a fact ends its enrollment: pure decisions over plain values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.nurture.contacts.domain import Profile, matches, may_contact
from services.nurture.tracks.compiled import CompiledTrack, Match

NURTURED_STAGES = frozenset({"raw", "engaged"})
# What a fact means for an enrollment, named as the tracks' `exit_on` names it.
QUALIFIED, DISQUALIFIED, UNSUBSCRIBED, ERASED = "qualified", "disqualified", "unsubscribed", "erased"
HANDED_OFF, CONVERTED = "handed_off", "converted"
ALWAYS = frozenset({UNSUBSCRIBED, ERASED})


@dataclass(frozen=True)
class PastEnrollment:
    """An enrollment of the contact that has ended: its track and when it ended."""

    track_key: str
    exited_at: datetime


def entry_reason(stage: str, *, recycled: bool) -> str:
    """Why a lead enters, as nurture.enrolled says it."""
    if recycled:
        return "recycled_by_sales"
    return "new_raw_lead" if stage == "raw" else "engaged_not_ready"


def choose_track(
    tracks: Sequence[CompiledTrack],
    profile: Profile,
    *,
    now: datetime,
    active: bool,
    past: Sequence[PastEnrollment],
    recycle_reason: str | None = None,
    named: str | None = None,
) -> CompiledTrack | None:
    """The track a lead enters now, if any: none while it has an active enrollment or may not be contacted; else
    the highest-priority track whose entry criteria it meets and that it may (re-)enter. A recycled lead enters
    the track the recycle policy names when that track is active, else one whose criteria take its reason."""
    if active or may_contact(profile) is not None:
        return None
    if recycle_reason is None and profile.stage not in NURTURED_STAGES:
        return None
    last_exit: Mapping[str, datetime] = {}
    for enrollment in past:
        known = last_exit.get(enrollment.track_key)
        if known is None or enrollment.exited_at > known:
            last_exit = {**last_exit, enrollment.track_key: enrollment.exited_at}
    candidates = [
        track
        for track in tracks
        if _may_reenter(track, last_exit.get(track.key), now)
        and (named == track.key or matches(_entry(track, recycle_reason), profile, recycle_reason=recycle_reason))
    ]
    if named is not None and any(track.key == named for track in candidates):
        return next(track for track in candidates if track.key == named)
    return min(candidates, key=lambda track: (-track.priority, track.key), default=None)


def exits_on(track: CompiledTrack, reason: str) -> bool:
    """Whether `reason` ends an enrollment in `track` (consent and erasure always do)."""
    return reason in ALWAYS or reason in track.exit_on


def _may_reenter(track: CompiledTrack, exited_at: datetime | None, now: datetime) -> bool:
    if exited_at is None:
        return True
    return track.reentry_allowed and now >= exited_at + track.cooldown


def _entry(track: CompiledTrack, recycle_reason: str | None) -> Match:
    # A lead sales sent back is still an MQL in lead_scoring's eyes: a recycling track is entered by reason.
    return replace(track.entry, stages=None) if recycle_reason is not None else track.entry
