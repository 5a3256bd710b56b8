"""Which track a lead enters, and when an enrollment ends: pure decisions on plain values.

At most one active enrollment per contact. Of the active tracks whose entry criteria the lead meets, the one of
highest priority wins (ties: the smaller key, so the choice never depends on load order). A track the lead was
in before is open again only if it allows re-entry and its cooldown has passed since the lead left it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.nurture.tracks.compiled import CompiledTrack
from services.nurture.tracks.document import MANDATORY_EXITS
from services.nurture.tracks.matching import LeadProfile, matches

NURTURED_STAGES = ("raw", "engaged")
ALWAYS = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PastEnrollment:
    """An enrollment of the contact: in which track, whether still active, when it ended."""

    track_key: str
    active: bool
    exited_at: datetime | None = None


@dataclass(frozen=True)
class Entry:
    """The decision: a track and the entry reason, or no track and why not (with when to ask again, if known)."""

    track: CompiledTrack | None
    reason: str
    retry_at: datetime | None = None


def entry_reason(lead: LeadProfile) -> str:
    """Why the lead is nurtured, as nurture.enrolled names it."""
    if lead.recycle_reason is not None:
        return "recycled_by_sales"
    return "new_raw_lead" if lead.stage == "raw" else "engaged_not_ready"


def choose_track(
    tracks: Iterable[CompiledTrack],
    lead: LeadProfile,
    history: Sequence[PastEnrollment],
    now: datetime,
    *,
    preferred: str | None = None,
) -> Entry:
    """The track the lead enters now, if any; `preferred` is the track a recycle policy names (criteria waived)."""
    if any(past.active for past in history):
        return Entry(None, "already_enrolled")
    if lead.recycle_reason is None and lead.stage not in NURTURED_STAGES:
        return Entry(None, "not_nurtured_stage")
    active = list(tracks)
    candidates = [track for track in active if track.key == preferred] or [
        track for track in active if matches(track.entry, lead)
    ]
    if not candidates:
        return Entry(None, "no_track_matches")
    open_tracks: list[CompiledTrack] = []
    blocked_until: list[datetime] = []
    for track in candidates:
        opens_at = reopens_at(track, history)
        if opens_at is None:
            continue
        if opens_at <= now:
            open_tracks.append(track)
        else:
            blocked_until.append(opens_at)
    if open_tracks:
        chosen = min(open_tracks, key=lambda track: (-track.priority, track.key))
        return Entry(chosen, entry_reason(lead))
    if blocked_until:
        return Entry(None, "cooling_down", retry_at=min(blocked_until))
    return Entry(None, "reentry_not_allowed")


def reopens_at(track: CompiledTrack, history: Sequence[PastEnrollment]) -> datetime | None:
    """When the lead may enter `track` (ALWAYS if it never was in it); None: never again."""
    past = [enrollment for enrollment in history if enrollment.track_key == track.key]
    if not past:
        return ALWAYS
    if not track.reentry_allowed:
        return None
    left = max((enrollment.exited_at for enrollment in past if enrollment.exited_at is not None), default=None)
    return ALWAYS if left is None else left + track.cooldown


def exit_reason(track: CompiledTrack, fact: str) -> str | None:
    """The exit reason a fact about the lead gives in this track (qualified, unsubscribed ...), or None to stay."""
    if fact in MANDATORY_EXITS or fact in track.exit_on:
        return fact
    return None
