"""Finding or creating the contact and account of an identity in the database: events the contract accepts are
resolved, never refused by a constraint, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from events.catalog import ContactIdentified
from events.catalog.common import AccountHint, ContactTraits, ExternalIds
from events.registry import Event, new_event
from services.lead_scoring.definitions.conditions import lookup
from services.lead_scoring.leads.scope import contact_attributes
from services.lead_scoring.matching.resolve import NAMESPACE
from services.lead_scoring.models import Contact, ContactExternalId
from tests.lead_scoring.test_feedback import T0, World

DANA, LEE, RAJ = "dana@acme-robotics.com", "lee@acme-robotics.com", "raj@gmail.com"


@pytest.fixture(params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> World:
    """lead_scoring's handlers with the example definition published, on SQLite and on PostgreSQL."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return World(engine)


def identify(email: str, minutes: int = 0, **data: Any) -> Event[ContactIdentified]:
    """A contact.identified of `email`, with whatever else `data` says."""
    identified = ContactIdentified(email=email, source_system="test", **data)
    return new_event(identified, key="k", time=T0 + timedelta(minutes=minutes), source="test")


def contact(world: World, email: str) -> Contact:
    """The contact of an email, detached."""
    with world.log.unit_of_work() as uow:
        found = uow.session.get_one(Contact, uuid.uuid5(NAMESPACE, f"contact:{email}"))
        uow.session.expunge(found)
        return found


def anonymous_id_owners(world: World, anonymous_id: str) -> list[uuid.UUID]:
    """The contacts holding a Segment anonymous id."""
    with world.log.unit_of_work() as uow:
        query = select(ContactExternalId.contact_id).where(
            ContactExternalId.system == "segment_anonymous_id", ContactExternalId.value == anonymous_id
        )
        return list(uow.session.scalars(query))


def test_two_people_on_one_shared_browser_stay_two_contacts_and_the_anonymous_id_stays_with_the_first(
    world: World,
) -> None:
    shared = ExternalIds(segment_anonymous_id="anon-1")
    world.handle(identify(DANA, 0, external_ids=shared))
    world.handle(identify(LEE, 1, external_ids=shared))
    world.handle(identify(LEE, 2, external_ids=ExternalIds(segment_anonymous_id="anon-1", crm_contact_id="c-9")))

    dana, lee = contact(world, DANA), contact(world, LEE)
    assert dana.id != lee.id
    assert lee.merged_into is None
    assert anonymous_id_owners(world, "anon-1") == [dana.id]


def test_two_people_sharing_a_browser_in_one_batch_are_resolved_the_same_way(world: World) -> None:
    shared = ExternalIds(segment_anonymous_id="anon-2")
    world.handle(identify(DANA, 0, external_ids=shared), identify(LEE, 1, external_ids=shared))

    assert anonymous_id_owners(world, "anon-2") == [contact(world, DANA).id]


def test_a_free_mail_contact_naming_a_known_accounts_domain_joins_that_account(world: World) -> None:
    world.handle(identify(DANA, 0))
    world.handle(identify(RAJ, 1, account=AccountHint(domain="www.acme-robotics.com")))

    raj = contact(world, RAJ)
    assert (raj.account_id, raj.account_rule) == (contact(world, DANA).account_id, "email_domain")


def test_a_company_name_that_normalises_to_nothing_makes_no_account(world: World) -> None:
    world.handle(identify(RAJ, 0, account=AccountHint(company_name="!!!")))
    world.handle(identify("ana@gmail.com", 1, account=AccountHint(company_name="???")))

    assert contact(world, RAJ).account_id is None
    assert contact(world, "ana@gmail.com").account_id is None


def test_a_company_name_that_grows_when_normalised_fits_the_account_and_matches_it_again(world: World) -> None:
    name = "Straße " * 42 + "GmbH"  # 298 characters, 336 once normalised
    world.handle(identify(RAJ, 0, account=AccountHint(company_name=name)))
    world.handle(identify("ana@gmail.com", 1, account=AccountHint(company_name=name.replace("GmbH", "AG"))))

    raj, ana = contact(world, RAJ), contact(world, "ana@gmail.com")
    assert raj.account_id is not None
    assert (ana.account_id, ana.account_rule) == (raj.account_id, "company_name")


def test_a_custom_field_named_like_a_trait_never_replaces_the_trait_and_is_read_under_custom(world: World) -> None:
    world.handle(identify(DANA, 0, traits=ContactTraits(title="VP Operations", custom={"title": "Ms", "plan": "pro"})))
    world.handle(identify(DANA, 1, traits=ContactTraits(custom={"title": "Mrs", "score": 3})))

    attributes = contact_attributes(contact(world, DANA))
    assert attributes["title"] == "VP Operations"
    assert attributes["custom"] == {"title": "Mrs", "plan": "pro", "score": 3}
    assert "plan" not in attributes
    assert lookup("contact.custom.title", attributes, None) == "Mrs"
    assert lookup("contact.title", attributes, None) == "VP Operations"
    assert lookup("contact.plan", attributes, None) == "pro"


def test_a_blank_crm_account_id_is_no_id_and_a_padded_one_finds_its_account_again(world: World) -> None:
    world.handle(identify(DANA, 0, account=AccountHint(crm_account_id="")))
    world.handle(identify("jonas@nordlogistik.de", 1, account=AccountHint(crm_account_id="")))
    world.handle(identify(RAJ, 2, account=AccountHint(crm_account_id=" 0015g ", company_name="Raj Consulting")))
    world.handle(identify("ana@gmail.com", 3, account=AccountHint(crm_account_id="0015g")))

    assert contact(world, DANA).account_id != contact(world, "jonas@nordlogistik.de").account_id
    assert contact(world, "ana@gmail.com").account_id == contact(world, RAJ).account_id is not None
