"""A nurture scheduler killed in the middle of a batch sends no action twice: the step fires in the transaction
that writes its action to the outbox, so a batch that dies is fired again whole, and only once."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from tests.clock import T0, Clock
from tests.nurture_flow.support import AWARENESS, Nurture, scored, store_tracks

ROOT = Path(__file__).resolve().parents[2]


def test_a_scheduler_killed_mid_batch_and_restarted_sends_each_action_once(postgres_engine: Engine) -> None:
    store_tracks(postgres_engine, AWARENESS)
    nurture = Nurture(postgres_engine, Clock(T0))
    contacts = [uuid.UUID(int=n + 1) for n in range(50)]
    nurture.publish(*(scored(contact, f"lead{n}@acme{n}.com", at=T0) for n, contact in enumerate(contacts)))
    nurture.consume()
    later = T0 + timedelta(hours=2)

    url = postgres_engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "tests.nurture_flow.scheduler_child", "--db-url", url, "--now", later.isoformat()]
    child = subprocess.run([*command, "--kill-after", "25"], cwd=ROOT, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL
    assert len(nurture.actions()) == 20  # two batches of ten committed; the third died with the process

    assert nurture.at(later) == 30
    actions = nurture.actions()
    assert Counter(action.contact_id for action in actions) == Counter(contacts)
    assert len({action.action_id for action in actions}) == 50
    assert {action.step_id for action in actions} == {"welcome"}
