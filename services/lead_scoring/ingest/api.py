"""Ingest: what marketing automation sends, checked, adapted to events and appended to the touches topic."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from auth.tokens import Principal
from events.envelope import utc_now
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import UnitOfWorkDep
from kernel.http_limits import JSON, JsonBody, LimitedRoute, check_items, media_type
from kernel.problems import Problem
from services.lead_scoring.ingest.adapt import CLOUDEVENTS, CLOUDEVENTS_BATCH, adapt, is_mautic_webhook
from services.lead_scoring.ingest.adapters.hubspot import hubspot_contact_ids, is_hubspot_webhook
from services.lead_scoring.ingest.signatures import SignatureRefused, verify_hubspot_v3, verify_mautic
from services.lead_scoring.ingest.touched import touched_contacts
from services.lead_scoring.matching import repository as matching_repository

router = APIRouter(tags=["ingest"], route_class=LimitedRoute)

Ingestor = Annotated[Principal, Depends(require_role("marketing_automation", "marketing_ops"))]


class IngestOut(BaseModel):
    """What became of each item of an ingest request: an accepted item names the contact and lead it touched
    (`contact_id`, `lead_id`; null with `why_none` for an anonymous item leadflow cannot place yet)."""

    accepted: list[dict[str, Any]]
    rejected: list[dict[str, Any]]


_ANY_JSON = {"schema": {"type": ["object", "array"]}}


@router.post(
    "/v1/touches",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems.responses(401),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "A CloudEvent (application/cloudevents+json), a CloudEvents batch "
                "(application/cloudevents-batch+json), a Segment track/identify/page call or batch, "
                "a Mautic webhook body, a HubSpot webhook delivery or form submission, or Marketo activities "
                "(application/json). At most 1 MiB and 5,000 items."
            ),
            "content": {JSON: _ANY_JSON, CLOUDEVENTS: _ANY_JSON, CLOUDEVENTS_BATCH: _ANY_JSON},
        }
    },
)
def ingest(request: Request, user: Ingestor, body: JsonBody, uow: UnitOfWorkDep) -> IngestOut:
    """Accept touches and identities from marketing automation; says per item what was accepted or why not."""
    check_items(_item_count(body))
    _check_signature(request, body)
    known = matching_repository.emails_by_external_id(uow.session, "hubspot_contact_id", hubspot_contact_ids(body))
    result = adapt(media_type(request), body, utc_now(), known_emails=known)
    rejected = [{"field": error.field, "message": error.message, "index": error.index} for error in result.rejected]
    if not result.accepted:
        first = result.rejected[0] if result.rejected else None
        raise Problem(422, "Nothing accepted", str(first) if first else "body: nothing to ingest", errors=rejected)
    events = {event.id: event for event in result.accepted}
    items = [[events[event_id] for event_id in item.event_ids] for item in result.accepted_items]
    touched = touched_contacts(uow.session, items, utc_now())
    for event in result.accepted:
        uow.emit(event)
    uow.commit()
    accepted = [
        {
            "item": item.item,
            "index": item.index,
            "event_ids": [str(event_id) for event_id in item.event_ids],
            **who.model_dump(mode="json"),
        }
        for item, who in zip(result.accepted_items, touched, strict=True)
    ]
    return IngestOut(accepted=accepted, rejected=rejected)


def _check_signature(request: Request, body: Any) -> None:
    """Mautic and HubSpot webhooks must be signed when their secret is set: 401 naming the header otherwise."""
    settings = request.app.state.settings
    raw: bytes = getattr(request.state, "raw_body", b"")
    try:
        if settings.mautic_webhook_secret and is_mautic_webhook(body):
            secret = settings.mautic_webhook_secret.get_secret_value()
            verify_mautic(raw, request.headers.get("Webhook-Signature"), secret)
        if settings.hubspot_client_secret and is_hubspot_webhook(body):
            verify_hubspot_v3(
                method=request.method,
                uri=str(request.url),
                raw_body=raw,
                timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
                signature=request.headers.get("X-HubSpot-Signature-v3"),
                secret=settings.hubspot_client_secret.get_secret_value(),
                now=utc_now(),
            )
    except SignatureRefused as refused:
        errors = [{"field": refused.header, "message": refused.reason}]
        raise Problem(401, "Signature refused", str(refused), errors=errors) from None


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
        if isinstance(body.get("result"), list):  # Marketo activities
            return len(body["result"])
    return 1
