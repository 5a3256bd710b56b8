"""Two changes to one handoff at once: one wins, the other is refused; never a lost update."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine

from eventlog.backends import SqlEventLog
from events.envelope import utc_now
from services.handoff import handlers, repository
from services.handoff.access import Viewer
from services.handoff.domain import ActionNotAllowed
from tests.handoff.org.documents import small
from tests.handoff.support import ANA, BEN, consume, emitted, handoffs, published, qualified, save_org

SALES_OPS = Viewer("ops@acme.example", "sales_ops", None, frozenset())


def _accept(engine: Engine, handoff_id: Any, barrier: threading.Barrier, outcomes: list[str]) -> None:
    with SqlEventLog(engine).unit_of_work() as uow:
        barrier.wait()
        try:
            row = handlers.load(uow, handoff_id, SALES_OPS)
            now = utc_now()
            handlers.run(uow, lambda: handlers.accept(uow, row, None, now), lambda: (200, {}, {}), None)
            outcomes.append("accepted")
        except ActionNotAllowed as refused:
            outcomes.append(f"409 {refused.status}")
        except handlers.ChangedMeanwhile:
            outcomes.append("409 changed")


def test_two_concurrent_accepts_on_postgresql_one_wins_the_other_is_refused(postgres_engine: Engine) -> None:
    save_org(postgres_engine)
    consume(postgres_engine, published(), qualified(1, at=utc_now()))
    handoff_id = handoffs(postgres_engine)[0].id
    barrier, outcomes = threading.Barrier(2), list[str]()
    threads = [threading.Thread(target=_accept, args=(postgres_engine, handoff_id, barrier, outcomes)) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Counter(outcomes) == {"accepted": 1, "409 accepted": 1}
    assert len(emitted(postgres_engine, "handoff.accepted")) == 1
    assert handoffs(postgres_engine)[0].version == 3


def test_a_change_committed_between_load_and_save_is_not_overwritten(postgres_engine: Engine) -> None:
    """Without the row lock (a read that did not lock), the version still refuses the stale write."""
    save_org(postgres_engine)
    consume(postgres_engine, published(), qualified(1, at=utc_now()))
    handoff_id = handoffs(postgres_engine)[0].id
    log = SqlEventLog(postgres_engine)
    with log.unit_of_work() as slow:
        row = repository.get(slow.session, handoff_id)
        assert row is not None
        with log.unit_of_work() as fast:
            fast_row = handlers.load(fast, handoff_id, SALES_OPS)
            now = utc_now()
            handlers.run(
                fast, lambda: handlers.reject(fast, fast_row, "bad_timing", None, now), lambda: (200, {}, {}), None
            )

        with pytest.raises(handlers.ChangedMeanwhile):
            handlers.run(slow, lambda: handlers.accept(slow, row, None, utc_now()), lambda: (200, {}, {}), None)

    assert handoffs(postgres_engine)[0].status == "rejected"
    assert emitted(postgres_engine, "handoff.accepted") == []


def test_a_batch_of_leads_on_postgresql_shares_the_pool_by_weight(postgres_engine: Engine) -> None:
    """Ben has weight 2, Ana 1 with room for 25 a day: the pool splits 1:2 until Ana is full, then skips her."""
    roomy = small()
    for rep in roomy["reps"]:
        rep["max_new_per_day"] = rep["max_open"] = 1000 if rep["email"] != "ana@acme.example" else 25
    save_org(postgres_engine, roomy)
    consume(postgres_engine, published())
    events = [qualified(n, account_id=uuid.uuid5(uuid.NAMESPACE_URL, f"acct:{n}")) for n in range(90)]
    consume(postgres_engine, *events[:45])
    consume(postgres_engine, *events[45:])

    counts = Counter(row.rep_id for row in handoffs(postgres_engine))
    # One in three to Ana until her 25th (the 75th lead), then Ben alone: 50 + 15.
    assert counts == {ANA: 25, BEN: 65}
