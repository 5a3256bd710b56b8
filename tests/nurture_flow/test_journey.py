"""A raw lead's journey through nurture on the SQL event log (SQLite and PostgreSQL), with the clock moved."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine

from tests.clock import T0, Clock
from tests.nurture_flow.support import (
    AWARENESS,
    RENURTURE,
    Nurture,
    exits,
    qualified,
    rejected,
    scored,
    store_tracks,
    touch,
)

DANA = uuid.UUID("00000000-0000-4000-8000-00000000da0a")
EMAIL = "dana@acme-robotics.com"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_a_raw_lead_enrolls_gets_its_steps_on_time_engages_is_capped_and_exits_qualified(engine: Engine) -> None:
    store_tracks(engine, AWARENESS, RENURTURE)
    nurture = Nurture(engine, Clock(T0))
    nurture.publish(scored(DANA, EMAIL, "raw", at=T0))
    nurture.consume()
    [enrollment] = nurture.enrollments(DANA)
    assert (enrollment.track_key, enrollment.entry_reason, enrollment.next_due_at) == (
        "awareness",
        "new_raw_lead",
        T0 + HOUR,
    )

    assert nurture.at(T0 + HOUR - timedelta(seconds=1)) == 0
    assert nurture.at(T0 + HOUR) == 1
    assert nurture.at(T0 + HOUR + 2 * DAY) == 1  # the guide, two days after the welcome was sent
    sent = nurture.actions()
    assert [(a.step_id, a.action.content_id, a.contact.email) for a in sent] == [
        ("welcome", "welcome", EMAIL),
        ("guide", "buyers-guide", EMAIL),
    ]
    assert len({a.action_id for a in sent}) == 2

    clicked = T0 + 2 * DAY + 5 * HOUR
    nurture.publish(touch(EMAIL, "email_click", at=clicked, content_id="buyers-guide"))
    nurture.consume()
    [enrollment] = nurture.enrollments(DANA)
    assert (enrollment.step, enrollment.phase, enrollment.next_due_at) == (3, "action", clicked + DAY)

    # Two emails in seven days already: the ROI email waits until the welcome leaves the window.
    assert nurture.at(clicked + DAY) == 1
    [enrollment] = nurture.enrollments(DANA)
    assert enrollment.next_due_at == T0 + HOUR + 7 * DAY
    assert nurture.runs(DANA) == [("welcome", "sent"), ("guide", "sent"), ("roi", "deferred")]

    nurture.publish(qualified(DANA, EMAIL, at=T0 + 5 * DAY))
    nurture.consume()
    assert nurture.at(T0 + 10 * DAY) == 0  # the timer went with the enrollment
    [enrollment] = nurture.enrollments(DANA)
    assert (enrollment.status, enrollment.exit_reason, enrollment.last_step) == ("exited", "qualified", 2)
    assert exits(nurture.events()) == ["qualified"]
    assert len(nurture.actions()) == 2


def test_a_lead_rejected_for_bad_timing_reenters_after_the_recycle_delay(engine: Engine) -> None:
    store_tracks(engine, AWARENESS, RENURTURE)
    nurture = Nurture(engine, Clock(T0))
    nurture.publish(scored(DANA, EMAIL, "raw", at=T0), qualified(DANA, EMAIL, at=T0 + HOUR))
    nurture.consume()
    nurture.publish(rejected(DANA, EMAIL, at=T0 + DAY, wait_days=30))
    nurture.consume()
    assert [e.exit_reason for e in nurture.enrollments(DANA)] == ["qualified"]

    assert nurture.at(T0 + 31 * DAY - timedelta(seconds=1)) == 0
    assert nurture.at(T0 + 31 * DAY) == 1
    _, second = nurture.enrollments(DANA)
    assert (second.track_key, second.entry_reason, second.status) == ("re-nurture", "recycled_by_sales", "active")
    assert second.next_due_at == T0 + 32 * DAY
    assert nurture.at(T0 + 32 * DAY) == 1
    assert [a.step_id for a in nurture.actions()] == ["check-in"]


def test_an_unsubscribe_between_scheduling_and_firing_sends_nothing(engine: Engine) -> None:
    store_tracks(engine, AWARENESS)
    nurture = Nurture(engine, Clock(T0))
    nurture.publish(scored(DANA, EMAIL, "raw", at=T0))
    nurture.consume()
    nurture.publish(touch(EMAIL, "unsubscribe", at=T0 + 30 * timedelta(minutes=1)))
    nurture.consume()

    assert nurture.at(T0 + 3 * DAY) == 0
    assert nurture.actions() == []
    assert exits(nurture.events()) == ["unsubscribed"]


def test_consent_lost_in_the_projection_alone_withholds_the_step_at_send_time(engine: Engine) -> None:
    store_tracks(engine, AWARENESS)
    nurture = Nurture(engine, Clock(T0))
    nurture.publish(scored(DANA, EMAIL, "raw", at=T0))
    nurture.consume()
    with nurture.log.unit_of_work() as uow:  # as if the unsubscribe reached the projection by another path
        from services.nurture.contacts.models import NurtureContact

        row = uow.session.get(NurtureContact, DANA)
        assert row is not None
        row.marketing_consent = False
        uow.commit()

    assert nurture.at(T0 + HOUR) == 1
    assert nurture.actions() == []
    assert nurture.runs(DANA) == [("welcome", "withheld")]
    assert exits(nurture.events()) == ["unsubscribed"]
