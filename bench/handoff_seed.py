"""A sales org and a history of handoffs for the handoff benchmarks: the org saved through the org handler,
the handoffs (with their SLA timers and assignments) inserted in bulk by PostgreSQL itself."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, text

from database.engine import make_session_factory
from eventlog.unit_of_work import UnitOfWork
from events.envelope import utc_now
from services.handoff.org.document import parse_document, rep_id
from services.handoff.org.handlers import save_document

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "routing.example.yaml"
COUNTRIES = ["DE", "FR", "GB", "US", "CA", "NL", "ES", "IT", "SE", "PL", "BR", "MX", "JP", "AU", "IN"]
ACCOUNTS = 20_000

# Half the handoffs wait for their rep (the queue's bulk), the rest went on through the funnel; 1 in 20 unrouted.
STATUS = """CASE WHEN n % 20 < 10 THEN 'assigned' WHEN n % 20 < 14 THEN 'accepted' WHEN n % 20 < 16 THEN 'rejected'
    WHEN n % 20 = 16 THEN 'converted' WHEN n % 20 = 17 THEN 'closed_won' WHEN n % 20 = 18 THEN 'closed_lost'
    ELSE 'unrouted' END"""

HANDOFFS = f"""
INSERT INTO handoff.handoff (id, lead_id, open_lead_id, contact_id, account_id, account_key, status, version,
    rep_id, assigned_at, warn_at, due_at, breached, breach_count, excluded_reps, accepted_at, time_to_accept_hours,
    rejection_reason, definition_version, qualification_cycle, reason, fit_grade, score, dossier,
    created_at, updated_at)
SELECT id, lead_id, CASE WHEN status IN ('unrouted', 'assigned', 'accepted', 'converted') THEN lead_id END,
    contact_id, account_id, 'account' || (n % {ACCOUNTS}) || '.example', status, 2,
    CASE WHEN status <> 'unrouted' THEN (CAST(:reps AS uuid[]))[1 + (n / 20) % :rep_count] END,
    CASE WHEN status <> 'unrouted' THEN created_at END,
    CASE WHEN status = 'assigned' THEN created_at + interval '18 hours' END,
    CASE WHEN status = 'assigned' THEN created_at + interval '1 day' END,
    false, 0, CAST('[]' AS json),
    CASE WHEN status NOT IN ('unrouted', 'assigned') THEN created_at + interval '3 hours' END,
    CASE WHEN status NOT IN ('unrouted', 'assigned') THEN 3.0 END,
    CASE WHEN status = 'rejected' THEN 'bad_timing' END,
    1, 1, CASE WHEN n % 7 = 0 THEN 'hand_raiser' ELSE 'criteria' END, substr('ABCD', 1 + n % 4, 1), 40 + n % 60,
    CAST(CAST(:dossier AS jsonb) || jsonb_build_object(
        'lead_id', lead_id,
        'contact', jsonb_build_object('contact_id', contact_id, 'email', 'person' || n || '@account' ||
            (n % {ACCOUNTS}) || '.example', 'first_name', 'Ada', 'last_name', 'Number ' || n,
            'title', 'Head of Operations'),
        'account', CAST(:dossier AS jsonb) -> 'account' || jsonb_build_object('account_id', account_id,
            'name', 'Account ' || (n % {ACCOUNTS}), 'domain', 'account' || (n % {ACCOUNTS}) || '.example',
            'country', (CAST(:countries AS text[]))[1 + n % :country_count])) AS json),
    created_at, created_at
FROM (
    SELECT n, CAST(md5('handoff' || n) AS uuid) AS id, CAST(md5('lead' || n) AS uuid) AS lead_id,
        CAST(md5('contact' || n) AS uuid) AS contact_id, CAST(md5('account' || (n % {ACCOUNTS})) AS uuid) AS account_id,
        {STATUS} AS status,
        -- created over the last 60 days, the newest last
        CAST(:now AS timestamptz) - (:count - n) * (interval '60 days' / :count) AS created_at
    FROM generate_series(1, :count) AS n
) AS seed
"""

# Every waiting handoff has its warning and deadline pending, as the SLA clock sets them.
TIMERS = """
INSERT INTO timers.timer (owner, kind, key, due_at, payload, created_at)
SELECT 'handoff', kind, id || ':' || kind, CASE WHEN kind = 'sla_warning' THEN warn_at ELSE due_at END,
    json_build_object('handoff_id', id, 'due_at', due_at), assigned_at
FROM handoff.handoff, (VALUES ('sla_warning'), ('sla_deadline')) AS kinds (kind)
WHERE status = 'assigned'
"""

ASSIGNMENTS = """
INSERT INTO handoff.handoff_assignment (handoff_id, rep_id, assigned_at, local_day)
SELECT id, rep_id, assigned_at, to_char(assigned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
FROM handoff.handoff WHERE rep_id IS NOT NULL
"""


def org_document(reps: int, teams: int) -> dict[str, Any]:
    """A sales org of `teams` teams (a manager each) sharing `reps` reps, a rule per country, on real calendars."""
    calendars = yaml.safe_load(EXAMPLE.read_text())["calendars"]
    names = sorted(calendars)
    team_names = [f"team-{t:02}" for t in range(teams)]
    people: list[dict[str, Any]] = []
    for t, team in enumerate(team_names):
        people.append(
            {
                "email": f"manager{t}@sales.example",
                "name": f"Manager {t}",
                "team": team,
                "role": "manager",
                "calendar": names[t % len(names)],
            }
        )
    for r in range(reps):
        people.append(
            {
                "email": f"rep{r}@sales.example",
                "name": f"Rep {r}",
                "team": team_names[r % teams],
                "calendar": names[r % len(names)],
                "max_open": 1_000,
                "max_new_per_day": 100,
            }
        )
    rules = [
        {
            "name": f"{country} pool",
            "conditions": [{"field": "country", "eq": country}],
            "target": {"kind": "pool", "team": team_names[i % teams]},
        }
        for i, country in enumerate(COUNTRIES)
    ]
    rules.append({"name": "everyone else", "target": {"kind": "pool", "team": team_names[0]}})
    return {
        "description": f"bench: {reps} reps in {teams} teams",
        "calendars": calendars,
        "teams": [{"name": team, "manager": f"manager{t}@sales.example"} for t, team in enumerate(team_names)],
        "reps": people,
        "rules": rules,
    }


def dossier_template() -> dict[str, Any]:
    """The parts of a dossier every seeded handoff shares: a committee, why now, recent touches (about 3 kB)."""
    members = [
        {
            "contact_id": str(uuid.uuid4()),
            "email": f"member{m}@account.example",
            "name": f"Member {m}",
            "title": title,
            "buying_role": role,
            "stage": "engaged",
            "engaged": True,
            "engagement_score": 30.0 + m,
            "last_touch_at": "2026-01-05T10:00:00+00:00",
        }
        for m, (title, role) in enumerate(
            [("CFO", "economic_buyer"), ("VP Operations", "decision_maker"), ("Analyst", "user")]
        )
    ]
    touches = [
        {
            "touch_id": str(uuid.uuid4()),
            "touch_type": kind,
            "channel": "web",
            "occurred_at": "2026-01-05T10:00:00Z",
            "campaign": "fy26-warehouse",
            "content_id": f"content-{t}",
        }
        for t, kind in enumerate(
            ["demo_request", "webinar_attended", "whitepaper_download", "page_view", "email_click"]
        )
    ]
    return {
        "qualification_cycle": 1,
        "definition_version": 1,
        "qualified_at": "2026-01-05T10:00:00+00:00",
        "account": {"industry": "logistics", "employees": 1200, "region": "EMEA", "employee_band": "1000-4999"},
        "buying_committee": {"members": members, "required_roles": ["decision_maker"], "missing_roles": []},
        "why_now": {
            "reason": "criteria",
            "summary": "met the MQL criteria of definition v1: fit grade A (82), engagement 64",
            "fit_score": 82,
            "fit_grade": "A",
            "engagement_score": 64,
            "account_score": 70,
            "top_rules": [
                {"rule_id": f"rule-{r}", "kind": "fit", "label": f"rule {r}", "matched": "yes", "points": 10}
                for r in range(5)
            ],
        },
        "recent_touches": touches,
    }


def seed(engine: Engine, handoffs: int, reps: int, teams: int) -> dict[uuid.UUID, str]:
    """Save the org, insert the handoffs, their timers and assignments, analyze; the reps' emails by id."""
    document = parse_document(org_document(reps, teams))
    with UnitOfWork(make_session_factory(engine)) as uow:
        save_document(uow, document, actor="bench@sales.example", role="sales_ops", now=utc_now())
    emails = {rep_id(f"rep{r}@sales.example"): f"rep{r}@sales.example" for r in range(reps)}
    parameters = {
        "reps": list(emails),
        "rep_count": reps,
        "countries": COUNTRIES,
        "country_count": len(COUNTRIES),
        "dossier": json.dumps(dossier_template()),
        "now": utc_now(),
        "count": handoffs,
    }
    with engine.begin() as connection:
        connection.execute(text(HANDOFFS), parameters)
        connection.execute(text(TIMERS))
        connection.execute(text(ASSIGNMENTS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return emails
