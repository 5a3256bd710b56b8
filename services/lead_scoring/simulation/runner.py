"""Simulation: replay stored touch history through a lead definition with the live scoring engine, and compare two.

What a replay decides, so that it finds the qualifications the live consumer would:

- Accounts are independent (an account's leads are scored together, never with another account's), so the
  replay goes account by account; a contact without an account is its own account, as in the live path.
- Within an account, touches and sales' rejections are fed in time order to the same engine the consumer runs
  (`scoring.engine.AccountBook`, through `scoring.engine.replay`): a touch is counted and its contact decided,
  and the account's other leads when its standing turns to met; a rejection of a lead that is an MQL in the
  replay ends its cycle under this definition's recycle policy for the reason (a reason it does not list: back
  to nurture at once); a rejection of a lead it did not qualify is ignored.
- Touches before `start` are history: they are replayed (a lead that qualified then is still an MQL in the
  window) but their qualifications are not reported. Nothing at or after `end` is replayed.
- An unsubscribe touch marks the contact from its time on. Attributes, buying roles and consent are taken as
  they are now (the history does not keep their past), and only touches and rejections are events here
  (identify calls and rescorings of the live run are not).

The result keeps every lead's final state (`SimulationResult.leads`): the live consumer's lead rows, for a
history it handled in time order under the same definition (tests/lead_scoring/test_live_equals_simulation.py).
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from services.lead_scoring.definitions.document import LeadDefinition
from services.lead_scoring.scoring.engagement import require_aware
from services.lead_scoring.scoring.lifecycle import LeadState
from services.lead_scoring.simulation.history import (
    DEFAULT_SEGMENTS,
    AccountHistory,
    ContactHistory,
    History,
    Outcome,
    Qualification,
    RuleHits,
    SimulationResult,
    employee_band,
    iso_week,
    segment_value,
    segments_of,
    summarise,
)
from services.lead_scoring.simulation.replay import RuleCounts, Rules, replay_account

__all__ = [
    "DEFAULT_SEGMENTS",
    "AccountHistory",
    "Comparison",
    "ContactHistory",
    "DefinitionQuality",
    "History",
    "Outcome",
    "Qualification",
    "RuleHits",
    "SimulationResult",
    "compare",
    "employee_band",
    "iso_week",
    "paused_collection",
    "segment_value",
    "simulate",
    "summarise",
]

Progress = Callable[[int, int], None]


def simulate(
    definition: LeadDefinition,
    history: History,
    *,
    start: datetime,
    end: datetime,
    progress: Progress | None = None,
    progress_every: int = 50_000,
    segments: Sequence[str] = DEFAULT_SEGMENTS,
    workers: int = 1,
) -> SimulationResult:
    """Replay `history` through `definition`; report the qualifications in [start, end); `progress(done, total)`."""
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise ValueError(f"`end` must be after `start` (got {start.isoformat()} .. {end.isoformat()})")
    with paused_collection():
        return _simulate(definition, history, start, end, progress, progress_every, tuple(segments), workers)


@contextmanager
def paused_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading and replaying a large history.

    A history is millions of objects in no reference cycle (reference counting frees them), and every full
    pass of the collector walks them all: in a replay of a million touches those passes cost a third of the
    time. Hold the pause until the history is dropped, so that no pass walks it afterwards either.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _simulate(
    definition: LeadDefinition,
    history: History,
    start: datetime,
    end: datetime,
    progress: Progress | None,
    progress_every: int,
    segments: tuple[str, ...],
    workers: int,
) -> SimulationResult:
    total, done, reported = history.touch_count(), 0, 0
    chunks = _chunks(history, progress_every)
    job = _Job(Rules(definition), history, start, end, segments)
    found: list[Qualification] = []
    segment_values: dict[uuid.UUID, tuple[str, ...]] = {}
    evaluations = 0
    hits: RuleCounts = {}
    leads: dict[uuid.UUID, LeadState] = {}
    for qualifications, values, evaluated, touches, counts, final in _run(job, chunks, workers):
        found.extend(qualifications)
        leads.update(final)
        segment_values.update(values)
        evaluations += evaluated
        done += touches
        _add(hits, counts)
        if progress is not None and done - reported >= progress_every:
            progress(done, total)
            reported = done
    if progress is not None:
        progress(total, total)
    result = summarise(definition, start, end, total, evaluations, found, segment_values, segments, hits)
    return replace(result, leads=leads)


def _add(total: RuleCounts, counts: RuleCounts) -> None:
    for rule_id, (contacts, touches) in counts.items():
        tally = total.setdefault(rule_id, [0, 0])
        tally[0] += contacts
        tally[1] += touches


@dataclass(frozen=True)
class _Job:
    rules: Rules
    history: History
    start: datetime
    end: datetime
    segments: tuple[str, ...]


ChunkResult = tuple[
    list[Qualification], dict[uuid.UUID, tuple[str, ...]], int, int, RuleCounts, dict[uuid.UUID, LeadState]
]
_FORKED: _Job | None = None  # the job a forked worker inherits, instead of receiving it pickled
_FORKING = threading.Lock()


def _chunks(history: History, touches_per_chunk: int) -> list[tuple[int, int]]:
    """Runs of consecutive accounts holding about `touches_per_chunk` touches each."""
    chunks, first, size = [], 0, 0
    for position, account in enumerate(history.accounts):
        size += sum(len(contact.touches) for contact in account.contacts)
        if size >= touches_per_chunk:
            chunks.append((first, position + 1))
            first, size = position + 1, 0
    if first < len(history.accounts):
        chunks.append((first, len(history.accounts)))
    return chunks


def _run(job: _Job, chunks: list[tuple[int, int]], workers: int) -> Iterator[ChunkResult]:
    # Accounts are independent, so chunks of them can go to other processes. Forked workers inherit the
    # history: pickling a million touches to them would cost more than replaying them.
    if workers <= 1 or len(chunks) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (_replay_chunk(job, chunk) for chunk in chunks)
        return
    global _FORKED
    with _FORKING:  # workers inherit the job when they are forked: one simulation forks at a time
        _FORKED = job
        # Frozen objects are left out of the workers' garbage collections, which would otherwise write to every
        # inherited object and so copy the whole history into each worker.
        gc.freeze()
        try:
            pool = multiprocessing.get_context("fork").Pool(min(workers, len(chunks)))
        finally:
            _FORKED = None
            gc.unfreeze()
    with pool:
        yield from pool.imap_unordered(_replay_forked, chunks)


def _replay_forked(chunk: tuple[int, int]) -> ChunkResult:
    assert _FORKED is not None
    return _replay_chunk(_FORKED, chunk)


def _replay_chunk(job: _Job, chunk: tuple[int, int]) -> ChunkResult:
    found: list[Qualification] = []
    values: dict[uuid.UUID, tuple[str, ...]] = {}
    evaluations = touches = 0
    hits: RuleCounts = {}
    leads: dict[uuid.UUID, LeadState] = {}
    for account in job.history.accounts[chunk[0] : chunk[1]]:
        qualifications, evaluated, counts, final = replay_account(job.rules, account, job.start, job.end)
        leads.update(final)
        evaluations += evaluated
        _add(hits, counts)
        touches += sum(len(contact.touches) for contact in account.contacts)
        if qualifications:
            found.extend(qualifications)
            values.update(segments_of(account, {q.contact_id for q in qualifications}, job.segments))
    return found, values, evaluations, touches, hits, leads


@dataclass(frozen=True)
class DefinitionQuality:
    """How one definition's MQLs fared with sales; a rate is None when nothing it counts is known.

    Counted over its MQLs: the leads (contacts) it qualified at least once in the window, judged by every sales
    outcome recorded for them (whichever definition's handoff it came from).

    - acceptance_rate: accepted / (accepted + rejected), counting sales decisions (outcome records) on its MQLs.
    - win_rate: won / (won + lost), counting closed opportunities of its MQLs.
    - precision: of its MQLs with any known outcome, the share that are good leads; a good lead is one with an
      accepted, converted or won outcome (sales took it), whatever else happened to it.
    - recall: of all good leads among the outcomes given, the share it qualified.
    """

    mqls: int
    with_outcome: int
    accepted: int
    rejected: int
    won: int
    lost: int
    good: int
    acceptance_rate: float | None
    win_rate: float | None
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class Comparison:
    """A draft against the published definition on the same history."""

    published: DefinitionQuality | None
    draft: DefinitionQuality
    newly_qualified: tuple[Qualification, ...]
    dropped: tuple[Qualification, ...]


GOOD_OUTCOMES = frozenset({"accepted", "converted", "won"})


def quality(result: SimulationResult, outcomes: Mapping[uuid.UUID, Sequence[Outcome]]) -> DefinitionQuality:
    """Acceptance rate, win rate, precision and recall of one simulated definition (see DefinitionQuality)."""
    mqls = result.qualified_leads()
    kinds = Counter(outcome.outcome for lead in mqls for outcome in outcomes.get(lead, ()))
    known = [lead for lead in mqls if outcomes.get(lead)]
    good_leads = {lead for lead, recorded in outcomes.items() if any(o.outcome in GOOD_OUTCOMES for o in recorded)}
    good = len(good_leads & mqls)
    return DefinitionQuality(
        mqls=len(mqls),
        with_outcome=len(known),
        accepted=kinds["accepted"],
        rejected=kinds["rejected"],
        won=kinds["won"],
        lost=kinds["lost"],
        good=good,
        acceptance_rate=_rate(kinds["accepted"], kinds["accepted"] + kinds["rejected"]),
        win_rate=_rate(kinds["won"], kinds["won"] + kinds["lost"]),
        precision=_rate(good, len(known)),
        recall=_rate(good, len(good_leads)),
    )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compare(
    published_result: SimulationResult | None,
    draft_result: SimulationResult,
    outcomes: Mapping[uuid.UUID, Sequence[Outcome]],
) -> Comparison:
    """The leads the draft newly qualifies and those that drop out, and both definitions' quality."""
    published_leads = published_result.qualified_leads() if published_result else frozenset()
    draft_leads = draft_result.qualified_leads()
    return Comparison(
        published=quality(published_result, outcomes) if published_result else None,
        draft=quality(draft_result, outcomes),
        newly_qualified=_first_of(draft_result, draft_leads - published_leads),
        dropped=_first_of(published_result, published_leads - draft_leads) if published_result else (),
    )


def _first_of(result: SimulationResult, leads: frozenset[uuid.UUID]) -> tuple[Qualification, ...]:
    first: dict[uuid.UUID, Qualification] = {}
    for qualification in result.qualifications:  # in time order
        if qualification.contact_id in leads:
            first.setdefault(qualification.contact_id, qualification)
    return tuple(first.values())
