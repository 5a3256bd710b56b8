"""Lead-to-account matching: the contact behind a touch, the account behind a contact, and merges of duplicates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from events.catalog.common import ExternalIds
from services.lead_scoring.matching.normalise import (
    FREE_MAIL_DOMAINS,
    LEGAL_SUFFIXES,
    InvalidEmail,
    corporate_domain,
    email_domain,
    is_free_mail,
    normalise_company_name,
    normalise_domain,
    normalise_email,
)

__all__ = [
    "EXTERNAL_ID_SYSTEMS",
    "FREE_MAIL_DOMAINS",
    "LEGAL_SUFFIXES",
    "AccountCandidate",
    "AccountMatch",
    "AccountRule",
    "ContactCandidate",
    "ContactMatch",
    "ContactRecord",
    "ContactRule",
    "Identity",
    "InvalidEmail",
    "MergePlan",
    "account_key",
    "corporate_domain",
    "email_domain",
    "external_id_pairs",
    "is_free_mail",
    "match_account",
    "match_contact",
    "normalise_company_name",
    "normalise_domain",
    "normalise_email",
    "plan_merge",
    "unclaimed_ids",
]

ContactRule = Literal["email", "external_id", "none"]
AccountRule = Literal["explicit_id", "email_domain", "company_name", "none"]
ExternalIdPairs = frozenset[tuple[str, str]]

# Strongest first: ids a system gives a known person before the anonymous id of a browser.
EXTERNAL_ID_SYSTEMS = (
    "crm_contact_id",
    "segment_user_id",
    "hubspot_contact_id",
    "marketo_lead_id",
    "mautic_contact_id",
    "segment_anonymous_id",
)
_ANONYMOUS = "segment_anonymous_id"


def account_key(account_id: str | None, email: str | None, *, anonymous_id: str | None = None) -> str:
    """The Kafka key: account id, else corporate email domain, else the email (free-mail), else `anonymous_id`."""
    if account_id and account_id.strip():
        return account_id.strip()
    if email:
        return corporate_domain(email) or normalise_email(email)
    if anonymous_id and anonymous_id.strip():
        return anonymous_id.strip()
    raise ValueError("an account key needs an account id, an email or an anonymous id")


def external_id_pairs(ids: ExternalIds) -> ExternalIdPairs:
    """A contact's ids as (system, id) pairs; systems in `other` keep the sender's name."""
    pairs = {(system, value) for system in EXTERNAL_ID_SYSTEMS if (value := getattr(ids, system))}
    return frozenset(pairs | {(system, value) for system, value in ids.other.items() if value})


class NamesSomeone(Protocol):
    """What an event says of who acted: a contact identity, or an identify or erasure event itself."""

    @property
    def email(self) -> str | None:
        """The address as sent (valid: the contract refused any other)."""

    @property
    def external_ids(self) -> ExternalIds:
        """The person's ids in the sending and other systems."""


@dataclass(frozen=True)
class Identity:
    """Who an event names, ready to compare: the normalised email and the external ids as (system, id) pairs."""

    email: str | None = None
    external_ids: ExternalIdPairs = frozenset()

    @classmethod
    def of(cls, named: NamesSomeone) -> Identity:
        """The identity an event names, its email normalised: the one place an event's email is normalised."""
        # The contract refused invalid addresses (events/emails.py), so normalising cannot fail here.
        email = normalise_email(named.email) if named.email else None
        return cls(email, external_id_pairs(named.external_ids))


@dataclass(frozen=True)
class ContactCandidate:
    """A known contact that may be the person behind an identity; `email` as stored, so normalised already
    (only normalised addresses are ever written to contact.email)."""

    contact_id: uuid.UUID
    created_at: datetime
    email: str | None = None
    external_ids: ExternalIdPairs = frozenset()


@dataclass(frozen=True)
class ContactMatch:
    """The contact an identity belongs to, the rule that matched, and other candidates that are the same person."""

    contact_id: uuid.UUID | None
    rule: ContactRule
    matched_on: str | None = None
    duplicates: tuple[uuid.UUID, ...] = ()


def _oldest_first(candidates: Iterable[ContactCandidate]) -> list[ContactCandidate]:
    return sorted(candidates, key=lambda candidate: (candidate.created_at, candidate.contact_id))


def _external_id_order(pair: tuple[str, str]) -> tuple[int, str, str]:
    system, value = pair
    rank = EXTERNAL_ID_SYSTEMS.index(system) if system in EXTERNAL_ID_SYSTEMS else len(EXTERNAL_ID_SYSTEMS) - 1
    return rank, system, value


def match_contact(identity: Identity, candidates: Iterable[ContactCandidate]) -> ContactMatch:
    """Match by email first, then by external ids (strongest first); the oldest contact wins a tie. Both emails
    are normalised already (the identity's by `Identity.of`, the candidates' as stored): they compare as they are."""
    pool = _oldest_first(candidates)
    email = identity.email
    wanted = sorted(identity.external_ids, key=_external_id_order)

    def shares_id(candidate: ContactCandidate, pair: tuple[str, str]) -> bool:
        if pair not in candidate.external_ids:
            return False
        # A shared browser is not a shared person: an anonymous id never links two different emails.
        other = candidate.email
        return not (pair[0] == _ANONYMOUS and email and other and other != email)

    by_email = [candidate for candidate in pool if email and candidate.email == email]
    chosen: ContactCandidate | None = None
    rule: ContactRule = "none"
    matched_on: str | None = None
    if by_email:
        chosen, rule, matched_on = by_email[0], "email", "email"
    else:
        for pair in wanted:
            found = [candidate for candidate in pool if shares_id(candidate, pair)]
            if found:
                chosen, rule, matched_on = found[0], "external_id", pair[0]
                break
    person_ids = [pair for pair in wanted if pair[0] != _ANONYMOUS]
    same_person = [
        candidate
        for candidate in pool
        if candidate in by_email or any(shares_id(candidate, pair) for pair in person_ids)
    ]
    contact_id = chosen.contact_id if chosen else None
    duplicates = tuple(candidate.contact_id for candidate in same_person if candidate.contact_id != contact_id)
    return ContactMatch(contact_id=contact_id, rule=rule, matched_on=matched_on, duplicates=duplicates)


def unclaimed_ids(
    pairs: ExternalIdPairs, owner: uuid.UUID, candidates: Iterable[ContactCandidate]
) -> list[tuple[str, str]]:
    """The ids to link to `owner`: those no other contact holds (a shared browser's anonymous id stays with the
    contact that had it first), in a stable order."""
    claimed = {pair for candidate in candidates if candidate.contact_id != owner for pair in candidate.external_ids}
    return sorted(pairs - claimed)


@dataclass(frozen=True)
class AccountCandidate:
    """A known account; `domains` normalised with `normalise_domain`, `name` as entered."""

    account_id: uuid.UUID
    created_at: datetime
    crm_account_id: str | None = None
    domains: frozenset[str] = frozenset()
    name: str | None = None


@dataclass(frozen=True)
class AccountMatch:
    """The account a contact belongs to, the rule that matched and the value it matched on."""

    account_id: uuid.UUID | None
    rule: AccountRule
    matched_on: str | None = None


def _domain_and_parents(domain: str) -> list[str]:
    """eu.acme.com -> [eu.acme.com, acme.com]: a subsidiary's mail domain still finds the account."""
    labels = domain.split(".")
    return [".".join(labels[start:]) for start in range(len(labels) - 1)]


def match_account(
    explicit_account_id: str | None,
    email: str | None,
    company_name: str | None,
    candidates: Iterable[AccountCandidate],
    *,
    hinted_domain: str | None = None,
) -> AccountMatch:
    """Match by explicit id (leadflow or CRM), then corporate email domain (else the domain the sender named,
    normalised), then normalised company name."""
    pool = sorted(candidates, key=lambda candidate: (candidate.created_at, candidate.account_id))
    wanted_id = (explicit_account_id or "").strip()
    if wanted_id:
        for candidate in pool:
            if wanted_id in (str(candidate.account_id), candidate.crm_account_id):
                return AccountMatch(candidate.account_id, "explicit_id", wanted_id)
    # A free-mail domain is never an account: such contacts wait for a company name.
    domain = (corporate_domain(email) if email else None) or hinted_domain
    for candidate_domain in _domain_and_parents(domain) if domain else []:
        for candidate in pool:
            if candidate_domain in candidate.domains:
                return AccountMatch(candidate.account_id, "email_domain", candidate_domain)
    name = normalise_company_name(company_name) if company_name else ""
    if name:
        for candidate in pool:
            if candidate.name and normalise_company_name(candidate.name) == name:
                return AccountMatch(candidate.account_id, "company_name", name)
    return AccountMatch(None, "none")


@dataclass(frozen=True)
class ContactRecord:
    """A contact about to be merged: when it was created and last updated, its attributes and ids."""

    contact_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    attributes: Mapping[str, object] = field(default_factory=dict)
    external_ids: ExternalIdPairs = frozenset()


@dataclass(frozen=True)
class MergePlan:
    """Which contact survives, which are merged into it, and the survivor's attributes and ids afterwards."""

    survivor_id: uuid.UUID
    merged_ids: tuple[uuid.UUID, ...]
    merged_attributes: Mapping[str, object]
    external_ids: ExternalIdPairs


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | set | frozenset | dict) and not value


def _merged(attributes: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Per name, the first non-empty value; a group of values (custom fields) is merged the same way, per name."""
    merged: dict[str, object] = {}
    for name in sorted({name for values in attributes for name in values}):
        present = [value for values in attributes if not _is_empty(value := values.get(name))]
        if present and isinstance(present[0], Mapping):
            merged[name] = _merged([value for value in present if isinstance(value, Mapping)])
        elif present:
            merged[name] = present[0]
    return merged


def plan_merge(contacts: Sequence[ContactRecord]) -> MergePlan:
    """Merge duplicates into the oldest; its non-empty values win, else the newest non-empty value of the others."""
    if not contacts:
        raise ValueError("a merge needs at least one contact")
    if len({contact.contact_id for contact in contacts}) != len(contacts):
        raise ValueError("a merge lists a contact twice")
    by_age = sorted(contacts, key=lambda contact: (contact.created_at, contact.contact_id))
    survivor, others = by_age[0], by_age[1:]
    newest_first = sorted(others, key=lambda c: (c.updated_at, c.created_at, c.contact_id), reverse=True)
    attributes = _merged([contact.attributes for contact in (survivor, *newest_first)])
    return MergePlan(
        survivor_id=survivor.contact_id,
        merged_ids=tuple(contact.contact_id for contact in others),
        merged_attributes=attributes,
        external_ids=frozenset().union(*(contact.external_ids for contact in contacts)),
    )
