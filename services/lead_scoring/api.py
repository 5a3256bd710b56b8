"""lead_scoring's HTTP API: ingest for marketing automation, and leads with the explanation of their score."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from auth.tokens import Principal
from events.envelope import utc_now
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import JSON, JsonBody, LimitedRoute, check_items, media_type
from kernel.problems import Problem
from services.lead_scoring.adapters import CLOUDEVENTS, CLOUDEVENTS_BATCH, adapt
from services.lead_scoring.models import Contact, Lead

router = APIRouter(tags=["leads"], route_class=LimitedRoute)

Ingestor = Annotated[Principal, Depends(require_role("marketing_automation", "marketing_ops"))]
LeadReader = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager", "rep"))]


class IngestOut(BaseModel):
    """What became of each item of an ingest request."""

    accepted: list[dict[str, Any]]
    rejected: list[dict[str, Any]]


_ANY_JSON = {"schema": {"type": ["object", "array"]}}


@router.post(
    "/v1/touches",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "A CloudEvent (application/cloudevents+json), a CloudEvents batch "
                "(application/cloudevents-batch+json), a Segment track/identify/page call or batch, "
                "or a Mautic webhook body (application/json). At most 1 MiB and 5,000 items."
            ),
            "content": {JSON: _ANY_JSON, CLOUDEVENTS: _ANY_JSON, CLOUDEVENTS_BATCH: _ANY_JSON},
        }
    },
)
def ingest(request: Request, user: Ingestor, body: JsonBody, uow: UnitOfWorkDep) -> IngestOut:
    """Accept touches and identities from marketing automation; says per item what was accepted or why not."""
    check_items(_item_count(body))
    result = adapt(media_type(request), body, utc_now())
    rejected = [{"field": error.field, "message": error.message, "index": error.index} for error in result.rejected]
    if not result.accepted:
        first = result.rejected[0] if result.rejected else None
        raise Problem(422, "Nothing accepted", str(first) if first else "body: nothing to ingest", errors=rejected)
    for event in result.accepted:
        uow.emit(event)
    uow.commit()
    accepted = [
        {"item": item.item, "index": item.index, "event_ids": [str(event_id) for event_id in item.event_ids]}
        for item in result.accepted_items
    ]
    return IngestOut(accepted=accepted, rejected=rejected)


def _item_count(body: Any) -> int:
    """Items in an ingest body: a batch's entries, a Mautic webhook's events, else one."""
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        if isinstance(body.get("batch"), list):
            return len(body["batch"])
        mautic = [value for key, value in body.items() if str(key).startswith("mautic.") and isinstance(value, list)]
        if mautic:
            return sum(len(events) for events in mautic)
    return 1


class LeadOut(BaseModel):
    """A lead: its stage and scores under the definition in force."""

    lead_id: uuid.UUID
    contact_id: uuid.UUID
    account_id: uuid.UUID | None
    email: str | None
    stage: str
    reason: str | None
    fit_score: float
    fit_grade: str
    engagement_score: float
    account_score: float
    definition_version: int
    qualification_cycle: int
    buying_role: str | None
    scored_at: str
    mql_at: str | None


def _lead(session: Any, lead_id: uuid.UUID) -> tuple[Lead, Contact]:
    lead = session.get(Lead, lead_id)
    contact = session.get(Contact, lead_id)
    if lead is None or contact is None:
        raise Problem(404, "Not found", f"no lead {lead_id} (nothing is scored before a definition is published)")
    return lead, contact


@router.get("/v1/leads/{lead_id}", responses=problems.responses(404))
def get_lead(lead_id: uuid.UUID, session: SessionDep, user: LeadReader) -> LeadOut:
    """A lead's stage and scores."""
    lead, contact = _lead(session, lead_id)
    return LeadOut(
        lead_id=lead.contact_id,
        contact_id=lead.contact_id,
        account_id=lead.account_id,
        email=contact.email,
        stage=lead.stage,
        reason=lead.reason,
        fit_score=lead.fit_score,
        fit_grade=lead.fit_grade,
        engagement_score=lead.engagement_score,
        account_score=lead.account_score,
        definition_version=lead.definition_version,
        qualification_cycle=lead.qualification_cycle,
        buying_role=contact.buying_role,
        scored_at=lead.scored_at.isoformat(),
        mql_at=lead.mql_at.isoformat() if lead.mql_at else None,
    )


@router.get("/v1/leads/{lead_id}/explanation", responses=problems.responses(404))
def get_explanation(lead_id: uuid.UUID, session: SessionDep, user: LeadReader) -> dict[str, Any]:
    """Why the lead is where it is: every rule that fired, its points, the decay, the caps hit, the version."""
    lead, _ = _lead(session, lead_id)
    return {"lead_id": str(lead.contact_id), **lead.explanation}
