"""The handoff state machine: each transition, the refusals, and random sequences under hypothesis."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import event as note_event
from hypothesis import given, settings
from hypothesis import strategies as st

from services.handoff import facts
from services.handoff.commands import (
    Accept,
    Assign,
    BreachSla,
    Close,
    Command,
    Convert,
    Reassign,
    Reject,
    ReturnToQueue,
)
from services.handoff.domain import (
    ALLOWED,
    STATUSES,
    ActionNotAllowed,
    HandoffError,
    HandoffState,
    InvalidCommand,
    Transition,
    decide,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ANA, BEN, MAX = (uuid.uuid5(uuid.NAMESPACE_URL, f"rep:{name}") for name in ("ana", "ben", "max"))
REASONS = ("bad_timing", "no_budget", "wrong_contact", "not_a_fit")
OPPORTUNITY = uuid.uuid5(uuid.NAMESPACE_URL, "opportunity:1")


def new() -> HandoffState:
    """A handoff just created from lead.qualified: unrouted, version 1."""
    return HandoffState(
        handoff_id=uuid.uuid5(uuid.NAMESPACE_URL, "handoff:1"), lead_id=uuid.uuid5(uuid.NAMESPACE_URL, "lead:1")
    )


def run(*steps: tuple[Command, datetime]) -> HandoffState:
    """The state after the commands, each at its instant."""
    state = new()
    for command, at in steps:
        state = decide(state, command, at).state
    return state


ASSIGNED = ((Assign(ANA, T0 + 4 * HOUR, "round_robin:emea"), T0),)
ACCEPTED = (*ASSIGNED, (Accept(), T0 + HOUR))
CONVERTED = (
    *ACCEPTED,
    (Convert(OPPORTUNITY, "Acme - 3 sites", Decimal("42000"), "EUR", date(2026, 6, 30)), T0 + 2 * HOUR),
)


def test_assign_gives_the_handoff_a_rep_and_a_deadline():
    transition = decide(new(), Assign(ANA, T0 + 4 * HOUR, "round_robin:emea"), T0)
    assert (transition.state.status, transition.state.rep_id, transition.state.due_at) == (
        "assigned",
        ANA,
        T0 + 4 * HOUR,
    )
    assert transition.state.version == 2
    (event,) = transition.events
    assert isinstance(event, facts.Assigned)
    assert (event.rep_id, event.routing_rule, event.version, event.at) == (ANA, "round_robin:emea", 2, T0)


def test_accept_in_time_and_late():
    on_time = decide(run(*ASSIGNED), Accept(note="calling today"), T0 + HOUR)
    assert on_time.state.status == "accepted"
    assert on_time.events == (
        facts.Accepted(on_time.state.handoff_id, on_time.state.lead_id, T0 + HOUR, 3, ANA, T0, True, "calling today"),
    )
    late = decide(run(*ASSIGNED), Accept(), T0 + 5 * HOUR)
    assert isinstance(late.events[0], facts.Accepted)
    assert late.events[0].within_sla is False


def test_reject_takes_an_agreed_reason_and_refuses_others_listing_them():
    rejected = decide(run(*ASSIGNED), Reject("bad_timing", REASONS, "budget in Q3"), T0 + HOUR)
    assert rejected.state.status == "rejected"
    assert rejected.state.rejection_reason == "bad_timing"
    with pytest.raises(
        InvalidCommand,
        match=r"'meh' is not an agreed reason \(allowed: bad_timing, no_budget, wrong_contact, not_a_fit\)",
    ) as caught:
        decide(run(*ASSIGNED), Reject("meh", REASONS), T0 + HOUR)
    assert caught.value.field == "reason_code"


def test_reassign_moves_the_handoff_with_a_new_deadline_and_refuses_the_same_rep():
    moved = decide(run(*ASSIGNED), Reassign(BEN, T0 + 9 * HOUR, "manager_override", by="max@acme.test"), T0 + HOUR)
    assert (moved.state.rep_id, moved.state.due_at, moved.state.assigned_at) == (BEN, T0 + 9 * HOUR, T0 + HOUR)
    event = moved.events[0]
    assert isinstance(event, facts.Reassigned)
    assert (event.previous_rep_id, event.rep_id, event.by) == (ANA, BEN, "max@acme.test")
    with pytest.raises(InvalidCommand, match="rep_id: the handoff is already assigned"):
        decide(run(*ASSIGNED), Reassign(ANA, T0 + 9 * HOUR, "manager_override"), T0 + HOUR)


def test_breach_only_at_the_deadline_and_once_per_deadline():
    assigned = run(*ASSIGNED)
    with pytest.raises(InvalidCommand, match=r"now: the deadline .* has not passed"):
        decide(assigned, BreachSla("reassign"), T0 + HOUR)
    breached = decide(assigned, BreachSla("escalate", escalated_to=MAX), T0 + 4 * HOUR)
    assert (breached.state.status, breached.state.breached, breached.state.breach_count) == ("assigned", True, 1)
    with pytest.raises(InvalidCommand, match=r"due_at: the deadline .* was already breached"):
        decide(breached.state, BreachSla("reassign"), T0 + 5 * HOUR)
    again = decide(breached.state, Reassign(BEN, T0 + 12 * HOUR, "sla_breached"), T0 + 5 * HOUR).state
    assert (again.breached, again.breach_count) == (False, 1)
    assert decide(again, BreachSla("reassign"), T0 + 12 * HOUR).state.breach_count == 2


def test_return_to_queue_clears_the_rep_and_the_deadline():
    queued = decide(run(*ASSIGNED), ReturnToQueue("rep_unavailable"), T0 + HOUR)
    assert (queued.state.status, queued.state.rep_id, queued.state.due_at) == ("unrouted", None, None)
    assert isinstance(queued.events[0], facts.ReturnedToQueue)


def test_convert_then_close_won_or_lost():
    converted = run(*CONVERTED)
    assert converted.status == "converted"
    assert converted.opportunity is not None
    assert converted.opportunity.currency == "EUR"
    won = decide(converted, Close("won", amount=Decimal("40000")), T0 + 3 * HOUR)
    assert won.state.status == "closed_won"
    closed = won.events[0]
    assert isinstance(closed, facts.OpportunityClosed)
    assert (closed.amount, closed.currency, closed.opportunity_id) == (Decimal("40000"), "EUR", OPPORTUNITY)
    lost = decide(converted, Close("lost", lost_reason="competitor"), T0 + 3 * HOUR)
    assert (lost.state.status, lost.state.lost_reason) == ("closed_lost", "competitor")


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (Close("lost"), "lost_reason"),
        (Close("won", lost_reason="price"), "lost_reason"),
        (Close("won", amount=Decimal("-1")), "amount"),
        (Close("won", amount=Decimal("10"), currency="euro"), "currency"),
    ],
)
def test_a_bad_close_names_the_field(command, field):
    with pytest.raises(InvalidCommand) as caught:
        decide(run(*CONVERTED), command, T0 + 3 * HOUR)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (Convert(OPPORTUNITY, "  "), "name"),
        (Convert(OPPORTUNITY, "Acme", Decimal("10")), "currency"),
        (Convert(OPPORTUNITY, "Acme", None, "EUR"), "amount"),
        (Convert(OPPORTUNITY, "Acme", Decimal("NaN"), "EUR"), "amount"),
    ],
)
def test_a_bad_conversion_names_the_field(command, field):
    with pytest.raises(InvalidCommand) as caught:
        decide(run(*ACCEPTED), command, T0 + 2 * HOUR)
    assert caught.value.field == field


def test_an_action_the_state_does_not_allow_names_the_state_and_the_allowed_actions():
    with pytest.raises(
        ActionNotAllowed, match=r"accept is not allowed on a handoff that is unrouted \(allowed: reassign\)"
    ) as caught:
        decide(new(), Accept(), T0)
    assert (caught.value.status, caught.value.allowed) == ("unrouted", ("assign",))
    rejected = decide(run(*ASSIGNED), Reject("no_budget", REASONS), T0 + HOUR).state
    with pytest.raises(ActionNotAllowed, match=r"is rejected \(allowed: none by people now\)"):
        decide(rejected, Convert(OPPORTUNITY, "Acme"), T0 + 2 * HOUR)


def test_a_deadline_must_be_after_now_and_instants_timezone_aware():
    with pytest.raises(InvalidCommand, match="due_at: must be after now"):
        decide(new(), Assign(ANA, T0, "round_robin:emea"), T0)
    with pytest.raises(InvalidCommand, match="now: must be timezone-aware"):
        decide(new(), Assign(ANA, T0 + HOUR, "round_robin:emea"), T0.replace(tzinfo=None))


def violations(state: HandoffState) -> list[str]:
    """What is wrong with a state; empty when it is one the handoff may be in."""
    wrong = []
    has_rep = state.rep_id is not None
    if state.status not in STATUSES or state.version < 1:
        wrong.append("status or version")
    if has_rep == (state.status == "unrouted"):
        wrong.append("a rep exactly when routed")
    if has_rep != (state.due_at is not None) or has_rep != (state.assigned_at is not None):
        wrong.append("a deadline and an assignment instant exactly when routed (kept once answered)")
    if state.due_at is not None and state.assigned_at is not None and state.due_at <= state.assigned_at:
        wrong.append("the deadline after the assignment")
    if state.breached and not has_rep:
        wrong.append("breached only while routed")
    if state.breach_count < int(state.breached):
        wrong.append("breach count")
    if (state.accepted_at is not None) != (state.status in ("accepted", "converted", "closed_won", "closed_lost")):
        wrong.append("accepted_at exactly once accepted")
    if (state.rejection_reason is not None) != (state.status == "rejected"):
        wrong.append("a rejection reason exactly when rejected")
    if (state.opportunity is not None) != (state.status in ("converted", "closed_won", "closed_lost")):
        wrong.append("an opportunity exactly once converted")
    if (state.lost_reason is not None) != (state.status == "closed_lost"):
        wrong.append("a lost reason exactly when lost")
    return wrong


# Deadlines are drawn as offsets from EPOCH and moved to the command's instant when it runs.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_reps = st.sampled_from([ANA, BEN, MAX])
_due = st.integers(-60, 600).map(lambda minutes: EPOCH + timedelta(minutes=minutes))
_money = st.sampled_from([(None, None), (Decimal("100"), "EUR"), (Decimal("5"), None), (Decimal("-3"), "USD")])
BY_ACTION = {
    "assign": st.builds(Assign, _reps, _due, st.just("round_robin:emea")),
    "reassign": st.builds(Reassign, _reps, _due, st.sampled_from(["sla_breached", "manager_override", "Bad Reason"])),
    "accept": st.builds(Accept, st.none() | st.just("ok")),
    "reject": st.builds(Reject, st.sampled_from([*REASONS, "meh"]), st.just(REASONS)),
    "convert": st.builds(lambda name, money: Convert(OPPORTUNITY, name, *money), st.sampled_from(["Acme", ""]), _money),
    "close": st.builds(
        Close,
        st.sampled_from(["won", "lost"]),
        st.none() | st.just("competitor"),
        st.sampled_from([None, Decimal("7")]),
    ),
    "breach_sla": st.builds(
        BreachSla, st.sampled_from(["escalate", "reassign", "return_to_queue"]), st.none() | st.just(MAX)
    ),
    "return_to_queue": st.builds(ReturnToQueue, st.sampled_from(["rep_unavailable", "x y"])),
}


def at(command: Command, now: datetime) -> Command:
    """The command with its deadline moved from EPOCH to `now`."""
    if isinstance(command, Assign | Reassign):
        return replace(command, due_at=now + (command.due_at - EPOCH))
    return command


EVENT_OF = {
    Assign: facts.Assigned,
    Reassign: facts.Reassigned,
    Accept: facts.Accepted,
    Reject: facts.Rejected,
    Convert: facts.OpportunityConverted,
    Close: facts.OpportunityClosed,
    BreachSla: facts.SlaBreached,
    ReturnToQueue: facts.ReturnedToQueue,
}


def attempt(state: HandoffState, command: Command, now: datetime) -> Transition | HandoffError:
    """The transition, or the refusal as a value."""
    try:
        return decide(state, command, now)
    except HandoffError as refused:
        return refused


@settings(max_examples=200, deadline=None)
@given(data=st.data(), length=st.integers(1, 40))
def test_no_sequence_reaches_an_invalid_state_and_each_change_emits_one_event(data, length):
    state, now = new(), T0
    for _ in range(length):
        now += timedelta(minutes=data.draw(st.integers(0, 240), label="minutes later"))
        # Mostly an action the state allows (so sequences go deep), sometimes any action (so refusals are tried).
        allowed = data.draw(st.integers(0, 3), label="allowed?") > 0 and ALLOWED[state.status]
        action = data.draw(st.sampled_from(allowed or sorted(BY_ACTION)), label="action")
        command = at(data.draw(BY_ACTION[action], label="command"), now)
        note_event(f"reached {state.status}")
        before = state
        outcome = attempt(state, command, now)
        if isinstance(outcome, HandoffError):
            assert state == before  # refused: nothing changed
            if isinstance(outcome, ActionNotAllowed):
                assert outcome.status == state.status
                assert outcome.action not in ALLOWED[state.status]
            continue
        transition = outcome
        (event,) = transition.events
        assert isinstance(event, EVENT_OF[type(command)])
        assert transition.state != before
        assert transition.state.version == before.version + 1 == event.version
        assert (event.handoff_id, event.at) == (before.handoff_id, now)
        assert violations(transition.state) == []
        state = transition.state
    note_event(f"ended {state.status}")  # --hypothesis-show-statistics: the sequences reach every state
    assert violations(state) == []
