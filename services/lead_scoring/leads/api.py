"""The leads API: leads with the explanation of their score, and accounts as marketing and sales read them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from auth.tokens import Principal
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.lead_scoring import repository
from services.lead_scoring.definitions.document import Ranking
from services.lead_scoring.leads import repository as leads
from services.lead_scoring.leads.account_view import account_view
from services.lead_scoring.leads.repository import LeadSort
from services.lead_scoring.matching.normalise import InvalidEmail, normalise_email
from services.lead_scoring.models import Contact, Lead
from services.lead_scoring.schemas import (
    AccountOut,
    BoundedScore,
    FitGrade,
    LeadOut,
    LeadPage,
    SaneTime,
    Stage,
    decode_cursor,
    encode_cursor,
)

router = APIRouter(tags=["leads"], route_class=LimitedRoute)

LeadReader = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager", "rep"))]


def _lead(session: Any, lead_id: uuid.UUID) -> tuple[Lead, Contact]:
    found = leads.lead_with_contact(session, lead_id=lead_id)
    if found is None:
        detail = f"lead {lead_id} is unknown"
        if repository.published(session) is None:
            detail += ": nothing is scored before a definition is published"
        raise Problem(404, "Unknown lead", detail)
    return found


def _ranking(session: Any) -> Ranking:
    definition = repository.published(session)
    return definition.ranking if definition else Ranking()


def _lead_out(lead: Lead, contact: Contact, ranking: Ranking) -> LeadOut:
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
        combined_score=ranking.score(lead.fit_score, lead.engagement_score),
        account_score=lead.account_score,
        definition_version=lead.definition_version,
        qualification_cycle=lead.qualification_cycle,
        buying_role=contact.buying_role,
        scored_at=lead.scored_at.isoformat(),
        mql_at=lead.mql_at.isoformat() if lead.mql_at else None,
        mql_version=lead.mql_version,
    )


@router.get("/v1/leads", responses=problems.responses(400, 422))
def list_leads(
    session: SessionDep,
    user: LeadReader,
    email: Annotated[str | None, Query(max_length=320, description="Compared normalised, as ingest stores it.")] = None,
    account_id: uuid.UUID | None = None,
    stage: Stage | None = None,
    fit_grade: FitGrade | None = None,
    min_score: Annotated[BoundedScore | None, Query(description="Lowest combined score.")] = None,
    max_score: Annotated[BoundedScore | None, Query(description="Highest combined score.")] = None,
    updated_since: Annotated[SaneTime | None, Query(description="Scored at or after this time.")] = None,
    sort: Annotated[LeadSort, Query(description="score: combined score; updated: last scored. Both descending.")] = (
        "score"
    ),
    cursor: Annotated[str | None, Query(max_length=500, description="`next` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LeadPage:
    """Find leads by email, account, stage, fit grade, combined score or time scored; a page at a time."""
    if min_score is not None and max_score is not None and min_score > max_score:
        raise _bad_filter(422, "min_score", f"must not exceed max_score ({min_score:g} > {max_score:g})")
    try:
        normalised = normalise_email(email) if email is not None else None
    except InvalidEmail as error:
        raise _bad_filter(422, "email", str(error)) from None
    try:
        after = decode_cursor(cursor, sort) if cursor is not None else None
    except ValueError as error:
        raise _bad_filter(400, "cursor", str(error)) from None
    ranking = _ranking(session)
    query = leads.LeadQuery(
        ranking=ranking,
        email=normalised,
        account_id=account_id,
        stage=stage,
        fit_grade=fit_grade,
        min_score=min_score,
        max_score=max_score,
        updated_since=updated_since,
        sort=sort,
        after=after,
        limit=limit + 1,  # one more than asked says whether there is a next page
    )
    found = leads.find_leads(session, query)
    page = found[:limit]
    more = len(found) > limit
    return LeadPage(
        items=[_lead_out(lead, contact, ranking) for lead, contact, _ in page],
        next=encode_cursor(sort, page[-1][2], page[-1][0].contact_id) if more else None,
    )


def _bad_filter(status: int, field: str, message: str) -> Problem:
    title = "Invalid cursor" if field == "cursor" else "Invalid filter"
    return Problem(status, title, f"{field}: {message}", errors=[{"field": f"query.{field}", "message": message}])


@router.get("/v1/leads/{lead_id}", responses=problems.responses(404))
def get_lead(lead_id: uuid.UUID, session: SessionDep, user: LeadReader) -> LeadOut:
    """A lead's stage and scores, and the combined score it is ranked by."""
    lead, contact = _lead(session, lead_id)
    return _lead_out(lead, contact, _ranking(session))


@router.get("/v1/leads/{lead_id}/explanation", responses=problems.responses(404))
def get_explanation(lead_id: uuid.UUID, session: SessionDep, user: LeadReader) -> dict[str, Any]:
    """Why the lead is where it is: every rule that fired, its points, the decay, the caps hit, the version."""
    lead, _ = _lead(session, lead_id)
    ranking = _ranking(session)
    combined = {
        "score": ranking.score(lead.fit_score, lead.engagement_score),
        "fit_weight": ranking.fit_weight,
        "engagement_weight": ranking.engagement_weight,
    }
    return {"lead_id": str(lead.contact_id), **lead.explanation, "combined": combined}


@router.get("/v1/accounts/{account_id}", responses=problems.responses(404))
def get_account(account_id: uuid.UUID, session: SessionDep, user: LeadReader) -> AccountOut:
    """An account: its contacts with their stages and scores, its roll-up score and its buying committee."""
    account = leads.account_by_id(session, account_id=account_id)
    if account is None:
        raise Problem(404, "Unknown account", f"account {account_id} is unknown")
    contacts = leads.contacts_of_account(session, account_id=account_id)
    stored = leads.leads_of(session, contact_ids=[contact.id for contact in contacts])
    return account_view(account, contacts, stored, repository.published(session))
