"""The consumer and the rescorer evaluating the same account at once, on PostgreSQL: one qualification, not two."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import yaml
from sqlalchemy import Engine

from services.lead_scoring.leads.handlers import handle_batch
from services.lead_scoring.leads.rescoring import Rescorer
from tests.lead_scoring.test_definition_api import ROOT
from tests.lead_scoring.test_feedback import DANA, T0, World, identified, touched


def test_a_lead_the_consumer_qualifies_during_a_rescore_is_qualified_once(postgres_engine: Engine) -> None:
    world = World(postgres_engine)
    # A poor fit (grade D) who asked for a demo: the example definition's fast lane wants grade C or better.
    world.handle(identified(DANA, 0, title="Analyst", industry="education", employees=5, country="BR"))
    world.handle(touched(DANA, 1, "demo_request"))
    assert world.lead(DANA).stage == "engaged"
    # Marketing and sales open the fast lane to every grade; publishing starts a rescore of every lead.
    wider = yaml.safe_load((ROOT / "config/lead_definition.example.yaml").read_text())
    wider["hand_raisers"][0]["min_fit_grade"] = "D"
    world.publish(wider, T0 + timedelta(minutes=10))

    rescorer = Rescorer(world.log)

    def rescore_every_lead() -> None:
        while rescorer.run_once():
            pass

    with world.log.unit_of_work() as uow:
        # The consumer, mid-batch: a touch of the account, scored under the new definition, not committed yet.
        handle_batch([touched(DANA, 5, "page_view")], uow)
        rescoring = threading.Thread(target=rescore_every_lead)
        rescoring.start()
        time.sleep(1.0)  # long enough for the rescore to finish, if nothing made it wait for this batch
        uow.commit()
    rescoring.join(timeout=30)

    assert not rescoring.is_alive()
    qualified = world.emitted("leadflow.lead.qualified.v1")
    assert [(data.reason, data.qualification_cycle) for data in qualified] == [("hand_raiser", 1)]
    assert world.lead(DANA).stage == "mql"
