"""Lead-to-account matching against the database: find or create the contact and the account of an identity."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from events.catalog.common import AccountHint, ContactTraits
from services.lead_scoring.matching import repository
from services.lead_scoring.matching.domain import ContactRecord as MergeRecord
from services.lead_scoring.matching.domain import (
    Identity,
    match_account,
    match_contact,
    plan_merge,
    unclaimed_ids,
)
from services.lead_scoring.matching.normalise import (
    corporate_domain,
    normalise_company_name,
    normalise_domain,
)
from services.lead_scoring.models import Account, Contact, ContactExternalId, Lead, Touch

# Ids derived from what identifies a contact or an account, so that a replay creates the same rows.
NAMESPACE = uuid.UUID("5c1b6a52-8f0e-4f52-9d51-2f1a6c1f7e10")

ACCOUNT_TRAITS = ("industry", "employees", "country")


def resolve_contact(
    session: Session,
    identity: Identity,
    now: datetime,
    *,
    traits: ContactTraits | None = None,
    hint: AccountHint | None = None,
) -> Contact:
    """The contact behind an identity (created if new, duplicates merged), with its account matched."""
    email, pairs = identity.email, identity.external_ids
    candidates = repository.contact_candidates(session, [email] if email else [], pairs)
    match = match_contact(identity, candidates)
    contact = session.get(Contact, match.contact_id) if match.contact_id else None
    if contact is None:
        seed = email or min(f"{system}:{value}" for system, value in pairs)
        contact = Contact(
            id=new_contact_id(session, seed),
            email=email,
            account_rule="none",
            attributes={},
            pain_points=[],
            consent="unknown",
            created_at=now,
            updated_at=now,
        )
        session.add(contact)
    if match.duplicates:
        contact = _merge(session, [contact.id, *match.duplicates], now)
    if email and contact.email is None:
        contact.email = email
    known = repository.external_ids_of(session, [contact.id]).get(contact.id, set())
    others = [candidate for candidate in candidates if candidate.contact_id not in match.duplicates]
    for system, value in unclaimed_ids(pairs - known, contact.id, others):
        session.add(ContactExternalId(system=system, value=value, contact_id=contact.id))
    if traits is not None:
        _learn_traits(contact, traits, now)
    _match_account(session, contact, traits, hint, now)
    return contact


def new_contact_id(session: Session, seed: str) -> uuid.UUID:
    """The id of a new contact, derived from what identifies it. The id may be taken by an erased contact: a
    person who comes back after asking to be forgotten is a new contact, with the next id of that seed."""
    candidate, generation = uuid.uuid5(NAMESPACE, f"contact:{seed}"), 0
    while session.get(Contact, candidate) is not None:
        generation += 1
        candidate = uuid.uuid5(NAMESPACE, f"contact:{seed}#{generation}")
    return candidate


def _learn_traits(contact: Contact, traits: ContactTraits, now: datetime) -> None:
    learned = {key: value for key, value in traits.model_dump(exclude={"custom"}).items() if value is not None}
    custom = {key: value for key, value in traits.custom.items() if value is not None}
    if custom:
        # Custom fields are stored apart (rules read them as contact.<name>): Mautic's custom title is a salutation
        # ("Ms") and must never replace the job title that fit rules read at contact.title.
        known = contact.attributes.get("custom")
        learned["custom"] = {**(known if isinstance(known, dict) else {}), **custom}
    if learned:
        contact.attributes = {**contact.attributes, **learned}
        contact.updated_at = now


def _match_account(
    session: Session, contact: Contact, traits: ContactTraits | None, hint: AccountHint | None, now: datetime
) -> None:
    company = (hint.company_name if hint else None) or (traits.company if traits else None)
    if company and not normalise_company_name(company):
        company = None  # "!!!" names no company: one account per such name would gather strangers
    # Stored as matched (trimmed), and a blank id is no id: else "" or " x " would be a second account's id too.
    explicit = (hint.crm_account_id or "").strip() or None if hint else None
    hinted_domain = normalise_domain(hint.domain) if hint and hint.domain else None
    if contact.account_id is None or explicit:
        domain = (corporate_domain(contact.email) if contact.email else None) or hinted_domain
        candidates = repository.account_candidates(
            session,
            ids=[explicit] if explicit else [],
            domains=_domain_and_parents(domain) if domain else [],
            names=[normalise_company_name(company)] if company else [],
        )
        found = match_account(explicit, contact.email, company, candidates, hinted_domain=hinted_domain)
        if found.account_id is not None:
            contact.account_id, contact.account_rule = found.account_id, found.rule
        elif domain or company:
            account = _new_account(session, domain=domain, company=company, crm_id=explicit, now=now)
            contact.account_id = account.id
            contact.account_rule = "email_domain" if domain else ("explicit_id" if explicit else "company_name")
    if contact.account_id is not None and (traits is not None or company or explicit):
        _learn_account(session.get_one(Account, contact.account_id), traits, company, explicit, now)


def _domain_and_parents(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[start:]) for start in range(len(labels) - 1)]


def _new_account(
    session: Session, *, domain: str | None, company: str | None, crm_id: str | None, now: datetime
) -> Account:
    normalised = normalise_company_name(company) if company else None
    seed = f"domain:{domain}" if domain else f"crm:{crm_id}" if crm_id else f"name:{normalised}"
    account_id = uuid.uuid5(NAMESPACE, f"account:{seed}")
    account = Account(
        id=account_id,
        key=domain or str(account_id),
        external_id=crm_id,
        domain=domain,
        name=company,
        normalised_name=normalised,
        attributes={},
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    return account


def _learn_account(
    account: Account, traits: ContactTraits | None, company: str | None, crm_id: str | None, now: datetime
) -> None:
    learned = {name: getattr(traits, name) for name in ACCOUNT_TRAITS if traits and getattr(traits, name) is not None}
    if learned:
        account.attributes = {**account.attributes, **learned}
    if company and not account.name:
        account.name, account.normalised_name = company, normalise_company_name(company)
    if crm_id and not account.external_id:
        account.external_id = crm_id
    account.updated_at = now


def _merge(session: Session, contact_ids: list[uuid.UUID], now: datetime) -> Contact:
    """Merge duplicate contacts into the oldest: attributes, external ids and touches move to the survivor."""
    contacts = {contact.id: contact for contact in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
    ids = repository.external_ids_of(session, list(contacts))
    plan = plan_merge(
        [
            MergeRecord(c.id, c.created_at, c.updated_at, c.attributes, frozenset(ids.get(c.id, ())))
            for c in contacts.values()
        ]
    )
    survivor = contacts[plan.survivor_id]
    survivor.attributes = dict(plan.merged_attributes)
    survivor.updated_at = now
    merged = list(plan.merged_ids)
    for merged_id in merged:
        duplicate = contacts[merged_id]
        duplicate.merged_into = survivor.id
        email, duplicate.email = duplicate.email, None  # the address now belongs to the survivor
        session.flush()
        survivor.email = survivor.email or email
        survivor.account_id = survivor.account_id or duplicate.account_id
    session.flush()
    session.execute(update(Touch).where(Touch.contact_id.in_(merged)).values(contact_id=survivor.id))
    session.execute(
        update(ContactExternalId).where(ContactExternalId.contact_id.in_(merged)).values(contact_id=survivor.id)
    )
    session.execute(delete(Lead).where(Lead.contact_id.in_(merged)))
    return survivor
