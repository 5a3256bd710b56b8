"""Lead-to-account matching: normalisation, account keys, contact and account matching, merges."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.catalog import ContactIdentified
from events.catalog.common import ContactIdentity, ExternalIds
from services.lead_scoring.matching.domain import (
    FREE_MAIL_DOMAINS,
    AccountCandidate,
    ContactCandidate,
    ContactRecord,
    Identity,
    InvalidEmail,
    account_key,
    corporate_domain,
    email_domain,
    is_free_mail,
    match_account,
    match_contact,
    normalise_company_name,
    normalise_domain,
    normalise_email,
    plan_merge,
    unclaimed_ids,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ids(n: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=i + 1) for i in range(n)]


def named(email: str | None = None, **external_ids: Any) -> Identity:
    """Who an event names, as lead_scoring compares it (`Identity.of`, the email normalised there)."""
    return Identity.of(ContactIdentity(email=email, external_ids=ExternalIds(**external_ids)))


# --- emails and domains -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Jane.Doe@ACME.com ", "jane.doe@acme.com"),
        ("jane+news@acme.com", "jane@acme.com"),
        ("jane.doe+q1@acme.com", "jane.doe@acme.com"),
        ("Jane.Doe+news@gmail.com", "janedoe@gmail.com"),
        ("j.a.n.e@googlemail.com", "jane@gmail.com"),
        ("jürgen@müller.de", "jürgen@xn--mller-kva.de"),
    ],
)
def test_emails_normalise_case_space_plus_tags_and_gmail_dots(raw, normalised):
    assert normalise_email(raw) == normalised


def test_dots_are_kept_outside_gmail():
    assert normalise_email("jane.doe@outlook.com") == "jane.doe@outlook.com"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jane.acme.com", "needs exactly one @"),
        ("jane@@acme.com", "needs exactly one @"),
        ("jane@acme", "is not a valid domain"),
        ("jane doe@acme.com", "is not a valid mailbox name"),
        ("jane..doe@acme.com", "is not a valid mailbox name"),
        ("+news@acme.com", "mailbox name is empty"),
        ("jane@-acme.com", "is not a valid domain"),
        ("jane@10.0.0.1", "is not a valid domain"),
    ],
)
def test_invalid_email_raises_a_value_error_saying_why(raw, reason):
    with pytest.raises(ValueError, match=reason) as error:
        normalise_email(raw)
    assert isinstance(error.value, InvalidEmail)
    assert str(error.value).startswith("value is not a valid email address")


def test_free_mail_list_is_realistic():
    assert len(FREE_MAIL_DOMAINS) >= 60
    assert {"gmail.com", "googlemail.com", "outlook.com", "icloud.com", "proton.me", "web.de", "qq.com"} <= (
        FREE_MAIL_DOMAINS
    )


@pytest.mark.parametrize("domain", ["gmail.com", "GMAIL.COM", "yahoo.co.uk", "yahoo.com.ar", "gmx.fr", "hotmail.it"])
def test_consumer_mailboxes_are_free_mail(domain):
    assert is_free_mail(domain)


@pytest.mark.parametrize("domain", ["acme-robotics.com", "gmx.acme-robotics.com", "yahooligans-robotics.com"])
def test_company_domains_are_not_free_mail(domain):
    assert not is_free_mail(domain)


def test_corporate_domain_is_none_for_free_mail():
    assert corporate_domain("raj.mehta@gmail.com") is None
    assert corporate_domain("Dana@Acme-Robotics.com") == "acme-robotics.com"
    assert email_domain("raj@googlemail.com") == "gmail.com"


@pytest.mark.parametrize(
    "raw",
    ["acme.com", "ACME.COM.", "www.acme.com", "https://www.acme.com/about?x=1", "http://acme.com:8080", "acme.com/en/"],
)
def test_domains_normalise_without_scheme_www_port_or_path(raw):
    assert normalise_domain(raw) == "acme.com"


@pytest.mark.parametrize("raw", ["", "localhost", "https://", "not a domain"])
def test_invalid_domain_raises(raw):
    with pytest.raises(ValueError, match="domain"):
        normalise_domain(raw)


# --- company names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ACME Robotics, Inc.", "Acme Robotics"),
        ("Acme Robotics GmbH", "acme robotics"),
        ("Acme Robotics Ltd.", "ACME ROBOTICS LIMITED"),
        ("Société Générale S.A.", "Societe Generale"),
        ("Müller GmbH & Co. KG", "Muller"),
        ("Nordlogistik Sp. z o.o.", "Nordlogistik"),
        ("The Acme Company", "Acme"),
        ("Smith & Co", "Smith"),
        ("Acme-Robotics Pty Ltd", "Acme Robotics"),
        ("McDonald\u2019s Corporation", "McDonalds"),
    ],
)
def test_company_names_compare_without_case_punctuation_accents_and_legal_suffixes(one, other):
    assert normalise_company_name(one) == normalise_company_name(other)


def test_a_name_that_is_only_a_legal_form_is_kept():
    assert normalise_company_name("Inc.") == "inc"
    assert normalise_company_name("SA") == "sa"


def test_distinct_companies_stay_distinct():
    assert normalise_company_name("Acme Robotics") != normalise_company_name("Acme Logistics")


# --- account key --------------------------------------------------------------------------------------------


def test_account_key_prefers_the_account_id():
    assert account_key("0c5d7a42-acct", "dana@acme-robotics.com") == "0c5d7a42-acct"


def test_account_key_is_the_corporate_domain_without_an_account():
    assert account_key(None, "Dana+roi@Acme-Robotics.com") == "acme-robotics.com"


def test_account_key_of_a_free_mail_contact_is_the_normalised_email():
    assert account_key(None, "Raj.Mehta+x@gmail.com") == "rajmehta@gmail.com"


def test_account_key_of_an_anonymous_visitor_is_its_id():
    assert account_key(None, None, anonymous_id="anon-7f3c") == "anon-7f3c"


def test_account_key_needs_something_to_go_by():
    with pytest.raises(ValueError, match="needs an account id, an email or an anonymous id"):
        account_key(" ", None)


# --- contact matching ---------------------------------------------------------------------------------------


def test_contact_is_matched_by_normalised_email_before_external_ids():
    by_id, by_email = ids(2)
    candidates = [
        ContactCandidate(by_id, T0, "someone@acme.com", frozenset({("mautic_contact_id", "48213")})),
        ContactCandidate(by_email, T0 + timedelta(days=1), "dana@acme.com"),
    ]
    identity = named("Dana+roi@ACME.com", mautic_contact_id="48213")
    match = match_contact(identity, candidates)
    assert (match.contact_id, match.rule, match.matched_on) == (by_email, "email", "email")
    assert match.duplicates == (by_id,)


def test_contact_without_email_is_matched_by_the_strongest_external_id():
    by_mautic, by_crm = ids(2)
    candidates = [
        ContactCandidate(by_mautic, T0, None, frozenset({("mautic_contact_id", "48213")})),
        ContactCandidate(by_crm, T0, None, frozenset({("crm_contact_id", "0035g")})),
    ]
    identity = named(mautic_contact_id="48213", crm_contact_id="0035g")
    match = match_contact(identity, candidates)
    assert (match.contact_id, match.rule, match.matched_on) == (by_crm, "external_id", "crm_contact_id")


def test_anonymous_touch_is_matched_to_the_contact_its_browser_identified_as():
    (known,) = ids(1)
    candidates = [ContactCandidate(known, T0, "dana@acme.com", frozenset({("segment_anonymous_id", "anon-1")}))]
    match = match_contact(named(segment_anonymous_id="anon-1"), candidates)
    assert (match.contact_id, match.rule) == (known, "external_id")


def test_a_shared_browser_does_not_link_two_people_with_different_emails():
    (colleague,) = ids(1)
    candidates = [ContactCandidate(colleague, T0, "tom@acme.com", frozenset({("segment_anonymous_id", "anon-1")}))]
    identity = named("dana@acme.com", segment_anonymous_id="anon-1")
    assert match_contact(identity, candidates).rule == "none"


def test_an_id_another_contact_holds_is_not_linked_to_a_second_contact():
    colleague, dana = ids(2)
    candidates = [ContactCandidate(colleague, T0, "tom@acme.com", frozenset({("segment_anonymous_id", "anon-1")}))]
    wanted = frozenset({("segment_anonymous_id", "anon-1"), ("crm_contact_id", "c-2"), ("mautic_contact_id", "7")})
    assert unclaimed_ids(wanted, dana, candidates) == [("crm_contact_id", "c-2"), ("mautic_contact_id", "7")]
    assert unclaimed_ids(wanted, colleague, candidates) == sorted(wanted)


def test_custom_system_ids_match_too():
    (known,) = ids(1)
    candidates = [ContactCandidate(known, T0, None, frozenset({("pardot", "123")}))]
    identity = named(other={"pardot": "123"})
    assert match_contact(identity, candidates).matched_on == "pardot"


def test_of_two_contacts_with_the_same_email_the_oldest_wins_and_the_other_is_a_duplicate():
    older, newer = ids(2)
    candidates = [
        ContactCandidate(newer, T0 + timedelta(hours=1), "jane@acme.com"),
        ContactCandidate(older, T0, "jane@acme.com"),
    ]
    match = match_contact(named("jane@acme.com"), candidates)
    assert (match.contact_id, match.duplicates) == (older, (newer,))


def test_unknown_person_matches_no_contact():
    match = match_contact(named("new@acme.com"), [ContactCandidate(ids(1)[0], T0, "old@acme.com")])
    assert (match.contact_id, match.rule, match.duplicates) == (None, "none", ())


def test_an_identity_carries_the_normalised_email_and_its_ids_as_pairs():
    identity = Identity.of(
        ContactIdentity(email="Jane.Doe+x@GoogleMail.com", external_ids=ExternalIds(mautic_contact_id="7"))
    )
    assert identity == Identity("janedoe@gmail.com", frozenset({("mautic_contact_id", "7")}))


def test_an_identify_event_names_its_identity_like_a_touch_does():
    event = ContactIdentified(
        email="Dana+roi@ACME.com", external_ids=ExternalIds(crm_contact_id="c-1"), source_system="hubspot"
    )
    assert Identity.of(event) == named("dana@acme.com", crm_contact_id="c-1")


def test_a_raw_address_finds_the_contact_stored_under_its_normalised_form():
    stored, other = ids(2)
    candidates = [ContactCandidate(stored, T0, "janedoe@gmail.com"), ContactCandidate(other, T0, "jane@acme.com")]
    match = match_contact(named("Jane.Doe+x@GoogleMail.com"), candidates)
    assert (match.contact_id, match.rule, match.duplicates) == (stored, "email", ())


def test_a_company_name_that_grows_when_normalised_is_cut_to_the_column_length():
    long_name = "Straße " * 42 + "GmbH"  # 298 characters, 336 once ß is ss
    normalised = normalise_company_name(long_name)
    assert len(long_name) <= 300
    assert len(normalised) == 300
    assert normalised.startswith("strasse strasse")
    assert normalise_company_name("ß" * 149 + "s xy") == "s" * 299  # no space left at the cut


# --- account matching ---------------------------------------------------------------------------------------


def accounts() -> list[AccountCandidate]:
    acme, nord, acme_fr = ids(3)
    return [
        AccountCandidate(acme, T0, "0015g-acme", frozenset({"acme-robotics.com"}), "Acme Robotics GmbH"),
        AccountCandidate(nord, T0, None, frozenset({"nordlogistik.de"}), "Nordlogistik AG"),
        AccountCandidate(acme_fr, T0 + timedelta(days=5), None, frozenset({"acme-robotics.fr"}), "Acme Robotique"),
    ]


def test_account_is_matched_by_explicit_leadflow_or_crm_id_first():
    acme, nord, _ = ids(3)
    assert match_account(str(nord), "dana@acme-robotics.com", None, accounts()).account_id == nord
    match = match_account("0015g-acme", "jonas@nordlogistik.de", None, accounts())
    assert (match.account_id, match.rule) == (acme, "explicit_id")


def test_account_is_matched_by_corporate_email_domain():
    acme = ids(1)[0]
    match = match_account(None, "Dana+roi@Acme-Robotics.com", "Something Else Ltd", accounts())
    assert (match.account_id, match.rule, match.matched_on) == (acme, "email_domain", "acme-robotics.com")


def test_a_subsidiary_mail_domain_finds_the_parent_domain_account():
    acme = ids(1)[0]
    assert match_account(None, "ops@eu.acme-robotics.com", None, accounts()).account_id == acme


def test_gmail_contact_stays_without_account_until_a_company_is_known():
    # Even an account that (wrongly) lists gmail.com as its domain must not collect gmail contacts.
    polluted = [*accounts(), AccountCandidate(uuid.uuid4(), T0, None, frozenset({"gmail.com"}), "Gmail Fans")]
    assert match_account(None, "raj.mehta.ops@gmail.com", None, polluted).rule == "none"
    match = match_account(None, "raj.mehta.ops@gmail.com", "NORDLOGISTIK, AG.", polluted)
    assert (match.account_id, match.rule, match.matched_on) == (ids(2)[1], "company_name", "nordlogistik")


def test_a_free_mail_contact_is_matched_by_the_domain_the_sender_named():
    acme = ids(1)[0]
    match = match_account(None, "raj@gmail.com", None, accounts(), hinted_domain="acme-robotics.com")
    assert (match.account_id, match.rule, match.matched_on) == (acme, "email_domain", "acme-robotics.com")
    # The contact's own corporate domain comes before the domain the sender named.
    match = match_account(None, "jonas@nordlogistik.de", None, accounts(), hinted_domain="acme-robotics.com")
    assert match.account_id == ids(2)[1]


def test_unknown_company_matches_no_account():
    assert match_account(None, "someone@unknown.example", "Unknown Corp", accounts()).rule == "none"
    assert match_account(None, None, None, accounts()).rule == "none"


# --- merging duplicates -------------------------------------------------------------------------------------


def test_oldest_contact_survives_and_keeps_its_values_and_gaps_take_the_newest_value():
    oldest, middle, newest = ids(3)
    contacts = [
        ContactRecord(newest, T0 + timedelta(days=2), T0 + timedelta(days=9), {"title": "COO", "phone": "+49 1"}),
        ContactRecord(oldest, T0, T0 + timedelta(days=1), {"title": "VP Ops", "phone": "", "city": None}),
        ContactRecord(middle, T0 + timedelta(days=1), T0 + timedelta(days=3), {"phone": "+49 2", "city": "Munich"}),
    ]
    plan = plan_merge(contacts)
    assert plan.survivor_id == oldest
    assert plan.merged_ids == (middle, newest)
    assert plan.merged_attributes == {"title": "VP Ops", "phone": "+49 1", "city": "Munich"}


def test_merged_custom_fields_keep_the_survivors_values_and_take_the_others_by_name():
    oldest, newest = ids(2)
    plan = plan_merge(
        [
            ContactRecord(oldest, T0, T0, {"custom": {"title": "Ms", "plan": ""}}),
            ContactRecord(newest, T0 + timedelta(days=1), T0, {"custom": {"title": "Mr", "plan": "pro", "n": 2}}),
        ]
    )
    assert plan.merged_attributes == {"custom": {"title": "Ms", "plan": "pro", "n": 2}}


def test_merge_keeps_every_external_id_so_later_touches_still_find_the_survivor():
    a, b = ids(2)
    plan = plan_merge(
        [
            ContactRecord(a, T0, T0, external_ids=frozenset({("mautic_contact_id", "1")})),
            ContactRecord(b, T0, T0, external_ids=frozenset({("segment_user_id", "u-9")})),
        ]
    )
    assert plan.survivor_id == a  # same age: the lower id
    assert plan.external_ids == {("mautic_contact_id", "1"), ("segment_user_id", "u-9")}


def test_merge_refuses_nothing_or_the_same_contact_twice():
    with pytest.raises(ValueError, match="at least one"):
        plan_merge([])
    (a,) = ids(1)
    with pytest.raises(ValueError, match="twice"):
        plan_merge([ContactRecord(a, T0, T0), ContactRecord(a, T0, T0)])


@given(st.permutations(range(4)))
def test_merge_plan_does_not_depend_on_the_order_contacts_are_listed(order):
    records = [
        ContactRecord(uuid.UUID(int=i + 1), T0 + timedelta(days=i % 2), T0 + timedelta(days=i), {"k": f"v{i}"})
        for i in range(4)
    ]
    baseline = plan_merge(records)
    assert plan_merge([records[i] for i in order]) == baseline
