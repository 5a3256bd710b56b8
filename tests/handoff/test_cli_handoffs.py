"""`leadflow handoffs queue|show` against `leadflow up` in its own process, as a rep and a manager run them."""

# ruff: noqa: F811 - the tests take tests.test_cli's `running_up` fixture, imported here, as their argument

from __future__ import annotations

import os

from database.engine import make_engine
from events.envelope import utc_now
from tests.handoff.support import consume, handoffs, published, qualified, save_org
from tests.test_cli import _cli, running_up  # noqa: F401 - the fixture


def test_a_manager_sees_the_handoff_queued_and_sales_ops_its_dossier_and_routing(running_up: str) -> None:
    engine = make_engine(os.environ["LEADFLOW_TEST_UP_DATABASE_URL"])
    save_org(engine)
    consume(engine, published(), qualified(1, at=utc_now()))  # the consumer's own handler, on the app's database
    handoff = handoffs(engine)[0]
    engine.dispose()
    assert handoff.rep_id is not None

    manager = _cli(running_up, "manager", "handoffs", "queue")
    assert manager.returncode == 0, manager.stdout + manager.stderr
    assert str(handoff.id) in manager.stdout
    assert "assigned" in manager.stdout
    assert "on_track" in manager.stdout

    shown = _cli(running_up, "sales_ops", "handoffs", "show", str(handoff.id))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    text = " ".join(shown.stdout.split())
    assert f"handoff {handoff.id} assigned, version" in text
    assert "you may: reassign, accept, reject" in text
    assert "account: Acme Robotics GmbH (manufacturing, DE, EMEA, 200-999)" in text
    assert "why now: met the MQL criteria" in text
    assert "roles still missing: decision_maker, economic_buyer" in text
    assert "webinar_attended" in text
    assert "rule 1 Strategic accounts: not matched rule 2 EMEA: matched" in text
    assert "rule 2: ana@acme.example eligible" in text

    missing = _cli(running_up, "sales_ops", "handoffs", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1
    assert "404" in missing.stdout
