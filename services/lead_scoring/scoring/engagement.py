"""Engagement scoring: touches, caps per rolling window and decay by half-life, the same live and in replay.

How the numbers are made, so that anyone can recompute them by hand:

- Touches are taken in scoring order: `(occurred_at, touch_id)`. Arrival order never matters, and touches
  with the same timestamp are ordered by id.
- A touch earns the points of every engagement rule it matches (rules do not exclude each other).
- Cap: for each touch, the points a rule counts within the window `(occurred_at - window_days, occurred_at]`
  (this touch included, earlier touches as counted after their own cap) may not exceed `max_points` in
  absolute value. A touch that would go over counts only the rest, possibly 0. Caps work on raw points, so
  whether a touch was capped never changes as time passes; a touch exactly `window_days` older is outside.
- Decay, evaluated at `now`: `counted_points * 0.5 ** (age_days / half_life_days)`, age in fractional days.
- Touches after `now` do not count. Scores are rounded to 2 decimals only in the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from services.lead_scoring.definitions.document import EngagementRule, LeadDefinition

SECONDS_PER_DAY = 86_400.0


def require_aware(moment: datetime, name: str) -> None:
    """Refuse a naive datetime: scores depend on instants, and a naive time has none."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"`{name}` must be timezone-aware (got {moment.isoformat()})")


@dataclass(frozen=True, slots=True)  # slots: a replay holds a million of them
class Touch:
    """One thing a contact did, as the engagement rules see it."""

    touch_id: str
    occurred_at: datetime
    touch_type: str
    channel: str | None = None
    campaign: str | None = None
    content_tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")

    @property
    def order(self) -> tuple[datetime, str]:
        """The scoring order: time, then touch id."""
        return (self.occurred_at, self.touch_id)


@dataclass(frozen=True, slots=True)
class CountedTouch:
    """One engagement rule applied to one touch, with the rule's cap applied (decay comes later, at `now`)."""

    rule_id: str
    touch: Touch
    raw_points: float
    counted_points: float

    @property
    def cut_points(self) -> float:
        """How much the cap cut: raw_points = counted_points + cut_points."""
        return self.raw_points - self.counted_points


@dataclass(frozen=True)
class EngagementHit:
    """One rule that fired on one touch: its points before and after the cap and the decay."""

    rule_id: str
    touch_id: str
    touch_type: str
    occurred_at: datetime
    raw_points: float
    counted_points: float
    cap_hit: bool
    cut_points: float
    decay_factor: float
    decayed_points: float
    kind: Literal["engagement"] = "engagement"


@dataclass(frozen=True)
class EngagementResult:
    """The engagement score at `now` and the hits that make it, in scoring order."""

    score: float
    hits: tuple[EngagementHit, ...]


@dataclass(frozen=True)
class _RuleView:
    # The rule with its option lists casefolded once: matching runs for every touch of every replay.
    rule: EngagementRule
    half_life_days: float | None
    touch_types: frozenset[str] | None
    channels: frozenset[str] | None
    campaigns: frozenset[str] | None
    content_tags: frozenset[str] | None

    def matches(self, touch_type: str, channel: str | None, campaign: str | None, tags: frozenset[str]) -> bool:
        """True if the touch, given casefolded, meets every criterion of the rule."""
        return (
            (self.touch_types is None or touch_type in self.touch_types)
            and (self.channels is None or channel in self.channels)
            and (self.campaigns is None or campaign in self.campaigns)
            and (self.content_tags is None or not self.content_tags.isdisjoint(tags))
        )


def _fold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def _folded(options: list[str] | None) -> frozenset[str] | None:
    return None if options is None else frozenset(option.casefold() for option in options)


def _views(definition: LeadDefinition) -> tuple[_RuleView, ...]:
    section = definition.engagement
    return tuple(
        _RuleView(
            rule=rule,
            half_life_days=(rule.half_life_days or section.half_life_days) if rule.decay else None,
            touch_types=_folded(rule.match.touch_types),
            channels=_folded(rule.match.channels),
            campaigns=_folded(rule.match.campaigns),
            content_tags=_folded(rule.match.content_tags),
        )
        for rule in section.rules
    )


@dataclass(frozen=True)
class EngagementLedger:
    """A contact's touches with caps applied. Built touch by touch (live) or all at once (replay): same ledger."""

    rules: tuple[_RuleView, ...]
    touches: tuple[Touch, ...] = ()
    counted: tuple[CountedTouch, ...] = ()
    # Which rules a touch of a given kind matches, shared by every ledger of the definition: a replay of
    # a million touches sees a few hundred kinds of touch, and matching them costs more than the rest.
    matching: dict[tuple[object, ...], tuple[_RuleView, ...]] = field(default_factory=dict, compare=False, repr=False)
    _half_lives: Mapping[str, float | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def start(cls, definition: LeadDefinition) -> EngagementLedger:
        """An empty ledger for the definition's engagement rules."""
        # Replays start one ledger per contact: prepare the rules once per definition, not once per contact.
        cached = _EMPTY_LEDGERS.get(id(definition))
        if cached is None or cached[0] is not definition:
            if len(_EMPTY_LEDGERS) >= 16:
                _EMPTY_LEDGERS.clear()
            views = _views(definition)
            half_lives = {view.rule.id: view.half_life_days for view in views}
            cached = _EMPTY_LEDGERS[id(definition)] = (definition, cls(rules=views, _half_lives=half_lives))
        return cached[1]

    def add(self, touch: Touch) -> EngagementLedger:
        """The ledger with one more touch; a touch id already in it is ignored (a re-sent touch)."""
        return self.extend((touch,))

    def extend(self, touches: Iterable[Touch]) -> EngagementLedger:
        """The ledger with more touches, in any order; touch ids already seen are ignored."""
        seen = {touch.touch_id for touch in self.touches}
        fresh: dict[str, Touch] = {}
        for touch in touches:
            if touch.touch_id not in seen:
                fresh.setdefault(touch.touch_id, touch)
        new = sorted(fresh.values(), key=lambda touch: touch.order)
        if not new:
            return self
        if self.touches and new[0].order < self.touches[-1].order:
            # A late touch changes the caps of every touch after it: recount in scoring order.
            every = sorted((*self.touches, *new), key=lambda touch: touch.order)
            return replace(self, touches=(), counted=())._append(every)
        return self._append(new)

    def _append(self, touches: list[Touch]) -> EngagementLedger:
        counted = list(self.counted)
        for touch in touches:
            for view in self._rules_matching(touch):
                points = view.rule.points
                if view.rule.cap is not None:
                    points = _within_cap(view.rule, touch, counted)
                counted.append(CountedTouch(view.rule.id, touch, view.rule.points, points))
        return replace(self, touches=(*self.touches, *touches), counted=tuple(counted))

    def _rules_matching(self, touch: Touch) -> tuple[_RuleView, ...]:
        kind = (touch.touch_type, touch.channel, touch.campaign, touch.content_tags)
        views = self.matching.get(kind)
        if views is None:
            folded = (
                touch.touch_type.casefold(),
                _fold(touch.channel),
                _fold(touch.campaign),
                frozenset(tag.casefold() for tag in touch.content_tags),
            )
            views = tuple(view for view in self.rules if view.matches(*folded))
            if len(self.matching) >= 100_000:
                self.matching.clear()  # free-text campaigns or tags: keep the memory bounded
            self.matching[kind] = views
        return views

    def half_lives(self) -> Mapping[str, float | None]:
        """The half-life in days of each engagement rule, by rule id; None where the points never fade."""
        return self._half_lives

    def _decayed(self, now: datetime) -> Iterator[tuple[CountedTouch, float]]:
        # The one place decay is applied, so that score_at and score_only_at cannot disagree.
        require_aware(now, "now")
        half_lives = self._half_lives
        for entry in self.counted:
            if entry.touch.occurred_at > now:
                break  # counted is in scoring order
            yield entry, decay_factor(half_lives[entry.rule_id], now - entry.touch.occurred_at)

    def score_only_at(self, now: datetime) -> float:
        """`score_at(now).score` without the hits: the same sum and rounding, for replays that need the number."""
        terms = [entry.counted_points * factor for entry, factor in self._decayed(now)]
        return round(math.fsum(terms), 2) + 0.0

    def score_at(self, now: datetime) -> EngagementResult:
        """The engagement score at `now`: touches up to `now`, decayed to `now`."""
        hits = []
        for entry, factor in self._decayed(now):
            hits.append(
                EngagementHit(
                    rule_id=entry.rule_id,
                    touch_id=entry.touch.touch_id,
                    touch_type=entry.touch.touch_type,
                    occurred_at=entry.touch.occurred_at,
                    raw_points=entry.raw_points,
                    counted_points=entry.counted_points,
                    cap_hit=entry.cut_points != 0,
                    cut_points=entry.cut_points,
                    decay_factor=factor,
                    decayed_points=entry.counted_points * factor,
                )
            )
        # fsum is exact, so the score cannot depend on how the terms happen to be grouped.
        return EngagementResult(score=round(math.fsum(hit.decayed_points for hit in hits), 2) + 0.0, hits=tuple(hits))


# id(definition) -> (definition, its empty ledger); holding the definition keeps its id from being reused.
_EMPTY_LEDGERS: dict[int, tuple[LeadDefinition, EngagementLedger]] = {}


def _within_cap(rule: EngagementRule, touch: Touch, counted: list[CountedTouch]) -> float:
    assert rule.cap is not None
    window_start = touch.occurred_at - timedelta(days=rule.cap.window_days)
    used: list[float] = []
    for entry in reversed(counted):
        if entry.touch.occurred_at <= window_start:
            break
        if entry.rule_id == rule.id:
            used.append(abs(entry.counted_points))
    room = max(0.0, rule.cap.max_points - math.fsum(used))
    return math.copysign(min(abs(rule.points), room), rule.points) + 0.0


def decay_factor(half_life_days: float | None, age: timedelta) -> float:
    """0.5 ** (age in days / half-life); 1 without a half-life."""
    if half_life_days is None:
        return 1.0
    return float(0.5 ** (age.total_seconds() / SECONDS_PER_DAY / half_life_days))


def score_engagement(definition: LeadDefinition, touches: Iterable[Touch], now: datetime) -> EngagementResult:
    """The engagement score at `now` of a contact's touches, given in any order."""
    return EngagementLedger.start(definition).extend(touches).score_at(now)
