"""Engagement scoring: touches, caps per rolling window and decay by half-life, the same live and in replay.

How the numbers are made, so that anyone can recompute them by hand:

- Touches are taken in scoring order: `(occurred_at, touch_id)`. Arrival order never matters, and touches
  with the same timestamp are ordered by id.
- A touch earns the points of every engagement rule it matches (rules do not exclude each other).
- Cap: for each touch, the points a rule counts within the window `(occurred_at - window_days, occurred_at]`
  (this touch included, earlier touches as counted after their own cap) may not exceed `max_points` in
  absolute value. A touch that would go over counts only the rest, possibly 0. Caps work on raw points, so
  whether a touch was capped never changes as time passes; a touch exactly `window_days` older is outside.
- Decay: `counted_points * 0.5 ** (age_days / half_life_days)`, age in fractional days. The score is kept as
  running sums, one per half-life: at each touch the sums are decayed to the touch's time and its counted
  points added; at `now` each sum is decayed from the latest touch to `now` and they are added up. This is
  the sum of every touch's decayed points up to the last bits of a float, and it is what is stored and
  compared: a touch costs a few multiplications, not a decay per past touch.
- Touches after `now` do not count. Scores are rounded to 2 decimals only in the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from services.lead_scoring.definitions.document import Grade, LeadDefinition, grade_at_least

DAY_US = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def require_aware(moment: datetime, name: str) -> None:
    """Refuse a naive datetime: scores depend on instants, and a naive time has none."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"`{name}` must be timezone-aware (got {moment.isoformat()})")


def micros(moment: datetime) -> int:
    """Microseconds since 1970: exact, so that instants compare as the datetimes do."""
    return (moment - EPOCH) // _MICROSECOND


def instant(at_us: int) -> datetime:
    """The UTC datetime of microseconds since 1970."""
    return EPOCH + timedelta(microseconds=at_us)


def _span_us(days: float) -> int:
    return timedelta(days=days) // _MICROSECOND


@dataclass(frozen=True, slots=True)  # slots: a replay holds a million of them
class Touch:
    """One thing a contact did, as the engagement rules see it."""

    touch_id: str
    occurred_at: datetime
    touch_type: str
    channel: str | None = None
    campaign: str | None = None
    content_tags: tuple[str, ...] = ()
    at: int = field(init=False, compare=False, repr=False)  # occurred_at in microseconds since 1970

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")
        object.__setattr__(self, "at", micros(self.occurred_at))

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
class HandRaiserHit:
    """The latest touch that raised the contact's hand under one hand-raiser rule."""

    rule_id: str
    touch_id: str
    touch_type: str
    occurred_at: datetime
    min_fit_grade: Grade
    fit_grade_met: bool
    kind: Literal["hand_raiser"] = "hand_raiser"


@dataclass(frozen=True)
class _RuleView:
    # An engagement rule prepared once: option lists casefolded, cap window and half-life resolved.
    id: str
    points: float
    cap_points: float | None
    cap_window_us: int
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


@dataclass(frozen=True)
class _Raiser:
    id: str
    touch_types: frozenset[str]
    min_fit_grade: Grade
    within_us: int | None


def _fold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def _folded(options: list[str] | None) -> frozenset[str] | None:
    return None if options is None else frozenset(option.casefold() for option in options)


class TouchRules:
    """What a definition does with a touch (engagement rules, caps, half-lives, hand-raisers), prepared once."""

    def __init__(self, definition: LeadDefinition) -> None:
        section = definition.engagement
        self.definition = definition
        self.views = tuple(
            _RuleView(
                id=rule.id,
                points=rule.points,
                cap_points=rule.cap.max_points if rule.cap else None,
                cap_window_us=_span_us(rule.cap.window_days) if rule.cap else 0,
                half_life_days=(rule.half_life_days or section.half_life_days) if rule.decay else None,
                touch_types=_folded(rule.match.touch_types),
                channels=_folded(rule.match.channels),
                campaigns=_folded(rule.match.campaigns),
                content_tags=_folded(rule.match.content_tags),
            )
            for rule in section.rules
        )
        self.half_lives: Mapping[str, float | None] = {view.id: view.half_life_days for view in self.views}
        self.raisers = tuple(
            _Raiser(
                rule.id,
                frozenset(kind.casefold() for kind in rule.touch_types),
                rule.min_fit_grade,
                _span_us(rule.within_days) if rule.within_days is not None else None,
            )
            for rule in definition.hand_raisers
        )
        # Which rules a touch of a given kind matches: a replay of a million touches sees a few hundred kinds of
        # touch, and matching them costs more than the rest.
        self._matching: dict[tuple[object, ...], tuple[_RuleView, ...]] = {}
        self._raising: dict[str, tuple[_Raiser, ...]] = {}

    @classmethod
    def of(cls, definition: LeadDefinition) -> TouchRules:
        """The prepared rules of a definition, shared by every ledger and engine of it."""
        cached = _PREPARED.get(id(definition))
        if cached is None or cached.definition is not definition:
            if len(_PREPARED) >= 16:
                _PREPARED.clear()
            cached = _PREPARED[id(definition)] = cls(definition)
        return cached

    def matching(self, touch: Touch) -> tuple[_RuleView, ...]:
        """The engagement rules a touch matches."""
        kind = (touch.touch_type, touch.channel, touch.campaign, touch.content_tags)
        views = self._matching.get(kind)
        if views is None:
            folded = (
                touch.touch_type.casefold(),
                _fold(touch.channel),
                _fold(touch.campaign),
                frozenset(tag.casefold() for tag in touch.content_tags),
            )
            views = tuple(view for view in self.views if view.matches(*folded))
            if len(self._matching) >= 100_000:
                self._matching.clear()  # free-text campaigns or tags: keep the memory bounded
            self._matching[kind] = views
        return views

    def raising(self, touch_type: str) -> tuple[_Raiser, ...]:
        """The hand-raiser rules a touch type raises a hand under."""
        found = self._raising.get(touch_type)
        if found is None:
            kind = touch_type.casefold()
            found = self._raising[touch_type] = tuple(raiser for raiser in self.raisers if kind in raiser.touch_types)
        return found


# id(definition) -> its prepared rules (which hold the definition, so its id is not reused while cached)
_PREPARED: dict[int, TouchRules] = {}


class LateTouchError(Exception):
    """A touch before the latest one already counted: the running state must be rebuilt in scoring order."""


class Engagement:
    """What scoring keeps of a contact's touches between events: the running decayed sums per half-life, what each
    capped rule counted within its window, the latest hand-raise per rule and the first unsubscribe. A touch costs
    a few multiplications whatever the contact's history."""

    __slots__ = ("constant", "last", "raised", "ref", "sums", "touches", "unsubscribed", "windows")

    def __init__(self) -> None:
        self.ref = 0  # microseconds: the sums are decayed to this instant (the latest touch's)
        self.constant = 0.0  # counted points that never fade
        self.sums: dict[float, float] = {}  # half-life in days -> decayed sum of counted points at `ref`
        self.windows: dict[str, list[tuple[int, float]]] = {}  # capped rule -> (at, |counted|) in its window
        self.raised: dict[str, tuple[int, str, str]] = {}  # hand-raiser rule -> latest (at, touch id, touch type)
        self.last: tuple[int, str] | None = None  # the scoring order of the latest touch counted
        self.unsubscribed: int | None = None  # when the first unsubscribe touch happened
        self.touches = 0

    def copy(self) -> Engagement:
        """An independent copy."""
        other = Engagement()
        other.ref, other.constant, other.sums = self.ref, self.constant, dict(self.sums)
        other.windows = {rule: list(entries) for rule, entries in self.windows.items()}
        other.raised, other.last = dict(self.raised), self.last
        other.unsubscribed, other.touches = self.unsubscribed, self.touches
        return other

    def add(self, rules: TouchRules, touch: Touch) -> list[CountedTouch]:
        """Count one more touch, later in scoring order than every touch counted; what each rule counted of it."""
        at = touch.at
        if self.last is not None and (at, touch.touch_id) <= self.last:
            raise LateTouchError(touch.touch_id)
        self.last = (at, touch.touch_id)
        self.touches += 1
        if touch.touch_type == "unsubscribe" and self.unsubscribed is None:
            self.unsubscribed = at
        for raiser in rules.raising(touch.touch_type):
            self.raised[raiser.id] = (at, touch.touch_id, touch.touch_type)
        if at != self.ref:
            if self.sums:
                age_days = (at - self.ref) / DAY_US
                self.sums = {half: total * 0.5 ** (age_days / half) for half, total in self.sums.items()}
            self.ref = at
        counted = []
        for view in rules.matching(touch):
            points = view.points
            if view.cap_points is not None:
                points = self._within_cap(view, at)
            half = view.half_life_days
            if half is None:
                self.constant += points
            elif half in self.sums:
                self.sums[half] += points
            else:  # kept in half-life order, the order `value` adds them in
                self.sums = dict(sorted({**self.sums, half: points}.items()))
            counted.append(CountedTouch(view.id, touch, view.points, points))
        return counted

    def _within_cap(self, view: _RuleView, at: int) -> float:
        assert view.cap_points is not None
        start = at - view.cap_window_us
        entries = [entry for entry in self.windows.get(view.id, ()) if entry[0] > start]
        room = max(0.0, view.cap_points - math.fsum(used for _, used in entries))
        points = math.copysign(min(abs(view.points), room), view.points) + 0.0
        entries.append((at, abs(points)))
        self.windows[view.id] = entries
        return points

    def value(self, now: int) -> float:
        """The unrounded engagement at `now` (microseconds), not before the latest touch."""
        if self.last is not None and now < self.ref:
            raise ValueError("engagement is kept forward only: `now` is before the latest touch")
        total = self.constant
        if self.sums:
            age_days = (now - self.ref) / DAY_US
            for half, running in self.sums.items():  # in half-life order
                total += running * 0.5 ** (age_days / half)
        return total

    def score(self, now: int) -> float:
        """The engagement score at `now`, rounded as people see it."""
        return round(self.value(now), 2) + 0.0

    def upper(self) -> float:
        """A bound the engagement never exceeds from `ref` on until the next touch: positive sums only fade."""
        return self.constant + sum(total for total in self.sums.values() if total > 0)

    def hand_raisers(
        self, rules: TouchRules, fit: Grade, now: int, since: int | None = None
    ) -> tuple[HandRaiserHit, ...]:
        """For each hand-raiser rule, its latest touch in (since, now] and within the rule's `within_days`."""
        hits = []
        for raiser in rules.raisers:
            raised = self.raised.get(raiser.id)
            if raised is None:
                continue
            at, touch_id, touch_type = raised
            if at > now or (since is not None and at <= since):
                continue
            if raiser.within_us is not None and at < now - raiser.within_us:
                continue
            met = grade_at_least(fit, raiser.min_fit_grade)
            hits.append(HandRaiserHit(raiser.id, touch_id, touch_type, instant(at), raiser.min_fit_grade, met))
        return tuple(hits)

    def dump(self) -> dict[str, Any]:
        """The state as JSON (floats keep every bit through JSON)."""
        return {
            "ref": self.ref,
            "constant": self.constant,
            "sums": [[half, total] for half, total in self.sums.items()],
            "windows": {rule: [list(entry) for entry in entries] for rule, entries in self.windows.items()},
            "raised": {rule: list(raised) for rule, raised in self.raised.items()},
            "last": list(self.last) if self.last else None,
            "unsubscribed": self.unsubscribed,
            "touches": self.touches,
        }

    @classmethod
    def load(cls, stored: Mapping[str, Any]) -> Engagement:
        """The state `dump` gave."""
        state = cls()
        state.ref, state.constant = stored["ref"], stored["constant"]
        state.sums = dict(sorted((half, total) for half, total in stored["sums"]))
        state.windows = {rule: [(at, used) for at, used in entries] for rule, entries in stored["windows"].items()}
        state.raised = {rule: (at, touch_id, kind) for rule, (at, touch_id, kind) in stored["raised"].items()}
        state.last = (stored["last"][0], stored["last"][1]) if stored["last"] else None
        state.unsubscribed, state.touches = stored["unsubscribed"], stored["touches"]
        return state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Engagement) and self.dump() == other.dump()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class EngagementLedger:
    """A contact's touches with caps applied, and their running state. Built touch by touch (live) or all at once
    (replay): the same ledger."""

    rules: TouchRules = field(compare=False, repr=False)
    touches: tuple[Touch, ...] = ()
    counted: tuple[CountedTouch, ...] = ()
    state: Engagement = field(default_factory=Engagement)

    @classmethod
    def start(cls, definition: LeadDefinition) -> EngagementLedger:
        """An empty ledger for the definition's engagement rules."""
        return cls(rules=TouchRules.of(definition))

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
            return replace(self, touches=(), counted=(), state=Engagement())._append(every)
        return self._append(new)

    def _append(self, touches: list[Touch]) -> EngagementLedger:
        state = self.state.copy()
        counted = list(self.counted)
        for touch in touches:
            counted += state.add(self.rules, touch)
        return replace(self, touches=(*self.touches, *touches), counted=tuple(counted), state=state)

    def half_lives(self) -> Mapping[str, float | None]:
        """The half-life in days of each engagement rule, by rule id; None where the points never fade."""
        return self.rules.half_lives

    def state_at(self, now: datetime) -> Engagement:
        """The running state with the touches up to `now` counted."""
        require_aware(now, "now")
        at = micros(now)
        if self.state.last is None or self.state.last[0] <= at:
            return self.state
        state = Engagement()
        for touch in self.touches:
            if touch.at > at:
                break
            state.add(self.rules, touch)
        return state

    def score_only_at(self, now: datetime) -> float:
        """`score_at(now).score` without the hits, for replays that need the number."""
        return self.state_at(now).score(micros(now))

    def score_at(self, now: datetime) -> EngagementResult:
        """The engagement score at `now`: touches up to `now`, decayed to `now`, with the hits that make it."""
        require_aware(now, "now")
        at = micros(now)
        hits = []
        for entry in self.counted:
            if entry.touch.at > at:
                break  # counted is in scoring order
            factor = decay_factor(self.rules.half_lives[entry.rule_id], now - entry.touch.occurred_at)
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
        return EngagementResult(score=self.score_only_at(now), hits=tuple(hits))


def decay_factor(half_life_days: float | None, age: timedelta) -> float:
    """0.5 ** (age in days / half-life); 1 without a half-life."""
    if half_life_days is None:
        return 1.0
    return float(0.5 ** ((age // _MICROSECOND) / DAY_US / half_life_days))


def score_engagement(definition: LeadDefinition, touches: Iterable[Touch], now: datetime) -> EngagementResult:
    """The engagement score at `now` of a contact's touches, given in any order."""
    return EngagementLedger.start(definition).extend(touches).score_at(now)
