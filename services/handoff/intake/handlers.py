"""The `handoff` consumer group: the leads and definitions topics in, handoffs out.

A poll's batch is one transaction: the contacts, accounts, open handoffs and account holders it needs are loaded
once, the org, loads and pointers once (on the first lead to route), then each event is applied in log order
at its own event time. The new rows (handoffs, contacts, accounts, decisions, assignments) wait in memory and
are inserted at the end, one statement per table, with the pointers and timers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventlog.processor import Handlers
from eventlog.unit_of_work import UnitOfWork
from events.catalog import DefinitionPublished, HandoffCreated, LeadQualified, LeadScored
from events.registry import Event, type_name
from services.handoff import repository
from services.handoff.assignment import Routing, account_owner, give
from services.handoff.dossier import build_dossier
from services.handoff.models import HandoffRecord
from services.handoff.outbox import emit_data
from services.handoff.pending import PendingRows
from services.handoff.projection import handlers as projection
from services.handoff.projection import repository as projected
from services.handoff.routing.model import AccountOwner
from services.handoff.sla.terms import HandoffTerms

GROUP = "handoff"
# A handoff's id is derived from its lead.qualified event's: a replay of history makes the same handoffs.
HANDOFF_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://leadflow.dev/handoff")
TYPES = frozenset(type_name(model) for model in (LeadScored, LeadQualified, DefinitionPublished))


class IntakeBatch:
    """One batch of the leads and definitions topics, applied in one unit of work."""

    def __init__(self, uow: UnitOfWork, events: Sequence[Event[Any]]) -> None:
        self.uow = uow
        session = uow.session
        leads = [event.data for event in events if isinstance(event.data, LeadScored | LeadQualified)]
        committee = [m.contact_id for d in leads if isinstance(d, LeadQualified) for m in d.buying_committee]
        accounts = {data.account_id for data in leads if data.account_id is not None}
        self.rows = PendingRows()
        contacts = [d.contact_id for d in leads] + committee
        self.projection = projection.Projection(session, contacts, accounts, self.rows)
        qualified = [data for data in leads if isinstance(data, LeadQualified)]
        self.open = repository.open_by_lead(session, {data.lead_id for data in qualified})
        held_accounts = {data.account_id for data in qualified if data.account_id is not None}
        self.held = repository.account_reps(session, held_accounts)
        self.terms: dict[int, HandoffTerms] = {}
        self.routing: Routing | None = None

    def apply(self, event: Event[Any]) -> None:
        """Apply one event at its own time."""
        data = event.data
        if isinstance(data, DefinitionPublished):
            projection.published(self.uow.session, data, event.time)
            self.terms.clear()
        elif isinstance(data, LeadScored):
            self.projection.scored(data, event.time)
        elif isinstance(data, LeadQualified):
            self.projection.qualified(data, event.time)
            self.qualified(event)

    def qualified(self, event: Event[LeadQualified]) -> None:
        """A qualified lead: its open handoff's dossier is refreshed, else a new handoff is made and routed."""
        data, at = event.data, event.time
        terms = self._terms(data.definition_version)
        dossier = build_dossier(
            data, qualified_at=at, required_roles=terms.required_roles, known_roles=self._known_roles(data)
        )
        row = self.open.get(data.lead_id)
        if row is not None:
            if at >= row.updated_at:  # a re-qualification while open: the rep reads the newer picture
                row.dossier, row.fit_grade, row.score = dossier, data.score.fit_grade, _score(data)
                row.qualification_cycle, row.updated_at = data.qualification_cycle, at
            return
        row = _new_handoff(data, dossier, at, uuid.uuid5(HANDOFF_IDS, str(event.id)))
        self.rows.add(row)  # inserted by `finish`, with the routing's changes to it
        self.open[data.lead_id] = row
        emit_data(
            self.uow,
            row,
            HandoffCreated(
                handoff_id=row.id,
                lead_id=data.lead_id,
                contact_id=data.contact_id,
                account_id=data.account_id,
                account_key=data.account_key,
                qualification_cycle=data.qualification_cycle,
                reason=data.reason,
                definition_version=data.definition_version,
                lead_qualified_event_id=event.id,
            ),
            at,
        )
        if self.routing is None:
            self.routing = Routing.begin(self.uow.session, at)
        rep_id = give(self.uow, self.routing, row, terms, at, trigger="qualified", owner=self._owner(data))
        if rep_id is not None and data.account_id is not None:
            self.held[data.account_id] = rep_id

    def finish(self) -> None:
        """Write what the batch kept in memory."""
        self.rows.write(self.uow.session)
        if self.routing is not None:
            self.routing.finish(self.uow)

    def _terms(self, version: int) -> HandoffTerms:
        if version not in self.terms:
            self.terms[version] = projected.terms(self.uow.session, version)
        return self.terms[version]

    def _known_roles(self, data: LeadQualified) -> dict[str, str]:
        contacts = self.projection.contacts
        return {
            str(member.contact_id): row.buying_role
            for member in data.buying_committee
            if (row := contacts.get(member.contact_id)) is not None and row.buying_role
        }

    def _owner(self, data: LeadQualified) -> AccountOwner | None:
        held = self.held.get(data.account_id) if data.account_id is not None else None
        domain = data.account.domain if data.account and data.account.domain else data.contact.email.split("@")[-1]
        return account_owner(self.routing, held, domain)


def _score(data: LeadQualified) -> float:
    return round(data.score.fit_score + data.score.engagement_score, 2)


def _new_handoff(data: LeadQualified, dossier: dict[str, Any], at: datetime, handoff_id: uuid.UUID) -> HandoffRecord:
    return HandoffRecord(
        id=handoff_id,
        lead_id=data.lead_id,
        open_lead_id=data.lead_id,
        contact_id=data.contact_id,
        account_id=data.account_id,
        account_key=data.account_key,
        status="unrouted",
        version=1,
        breached=False,
        breach_count=0,
        excluded_reps=[],
        definition_version=data.definition_version,
        qualification_cycle=data.qualification_cycle,
        reason=data.reason,
        fit_grade=data.score.fit_grade,
        score=_score(data),
        dossier=dossier,
        created_at=at,
        updated_at=at,
    )


def handle_batch(events: Sequence[Event[Any]], uow: UnitOfWork) -> None:
    """Apply a batch of the leads and definitions topics in log order."""
    batch = IntakeBatch(uow, events)
    for event in events:
        batch.apply(event)
    batch.finish()


def handlers() -> Handlers:
    """What the `handoff` consumer group handles."""
    return Handlers(TYPES, handle_batch)
