"""Replay equals live: the same events give the same leads whether handled one by one or in any batching."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from database import migrate
from database.engine import make_engine
from eventlog.models import OutboxRecord
from events.registry import Event, decode
from services.lead_scoring.models import Lead
from tests.lead_scoring.test_feedback import DANA, LEE, World, identified, touched

TOUCH_TYPES = ["webinar_attended", "pricing_page_view", "email_open", "demo_request", "page_view", "unsubscribe"]

steps = st.lists(
    st.tuples(
        st.sampled_from([DANA, LEE]), st.sampled_from(TOUCH_TYPES), st.integers(min_value=1, max_value=60 * 24 * 40)
    ),
    min_size=1,
    max_size=12,
)


def _run(events, batch_sizes: int) -> tuple[list[Any], list[Any]]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'replay.db'}")
        migrate.upgrade(engine)
        world = World(engine)
        for start in range(0, len(events), batch_sizes):
            world.handle(*events[start : start + batch_sizes])
        with world.log.unit_of_work() as uow:
            leads = [
                (
                    lead.contact_id,
                    lead.stage,
                    lead.reason,
                    lead.fit_score,
                    lead.engagement_score,
                    lead.account_score,
                    lead.qualification_cycle,
                )
                for lead in uow.session.scalars(select(Lead).order_by(Lead.contact_id))
            ]
            emitted = [
                (decode(value).type, decode(value).data.model_dump_json())
                for value in uow.session.scalars(select(OutboxRecord.value).order_by(OutboxRecord.position))
            ]
        engine.dispose()
    return leads, emitted


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, batch_size=st.integers(min_value=2, max_value=8))
def test_handling_one_by_one_or_in_batches_gives_the_same_leads_and_events(steps, batch_size) -> None:
    ordered = sorted(steps, key=lambda step: step[2])
    events: list[Event[Any]] = [identified(DANA, 0), identified(LEE, 0)]
    events += [touched(email, minutes, touch_type) for email, touch_type, minutes in ordered]

    live = _run(events, 1)
    replay = _run(events, batch_size)

    assert live == replay
