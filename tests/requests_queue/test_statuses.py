"""The status rule book: every from × to × actor pair is allowed or refused with a reason."""

import itertools

import pytest

from requests_queue.errors import InvalidTransition
from requests_queue.statuses import (
    ELIGIBLE_FOR,
    ELIGIBLE_FOR_DOUBLE_OPT_IN,
    ELIGIBLE_FOR_MASS_OPT_IN,
    ELIGIBLE_FOR_MASS_OPT_OUT,
    RESTORABLE_BY_UNDO,
    UNDOABLE,
    Actor,
    ActorKind,
    Cause,
    EmailStatus,
    Offer,
    allowed_sources,
    check_transition,
    is_eligible,
    skip_reasons,
    status_for_permission,
)

S = EmailStatus
N = None  # a new address
C, A, M, R, Y = (
    ActorKind.customer,
    ActorKind.agent,
    ActorKind.manager,
    ActorKind.recipient,
    ActorKind.system,
)
OPEN = {S.non_marketable, S.single_opt_in, S.double_opt_in}

# Written out by hand from DOMAIN.md, independently of the module's own table.
EXPECTED_ALLOWED = (
    {(C, N, S.non_marketable), (C, N, S.single_opt_in)}
    | {(C, s, S.opted_out_by_user) for s in OPEN}
    | {(k, S.non_marketable, S.single_opt_in) for k in (A, M)}
    | {(k, S.opted_out_by_user, t) for k in (A, M) for t in OPEN}
    | {(R, S.single_opt_in, S.double_opt_in), (R, S.opted_out_by_recipient, S.double_opt_in)}
    | {(R, s, S.opted_out_by_recipient) for s in OPEN | {S.opted_out_by_user}}
    | {
        (Y, s, t)
        for s in OPEN | {S.opted_out_by_user, S.opted_out_by_recipient}
        for t in (S.spam_complaint, S.hard_bounce, S.invalid)
    }
    | {(Y, N, S.invalid)}
)
# Causes that satisfy every requirement, so the table alone decides.
FULL_CAUSE = Cause(request_id=1, consent_recorded=True, import_batch_id=1)


def _actor(kind):
    return Actor(kind, None if kind in (R, Y) else 7)


ALL = list(itertools.product(ActorKind, [None, *S], S))


@pytest.mark.parametrize(("kind", "source", "target"), ALL)
def test_every_transition_is_allowed_or_refused_with_a_reason(kind, source, target):
    if (kind, source, target) in EXPECTED_ALLOWED:
        check_transition(source, target, _actor(kind), FULL_CAUSE)
        assert source in allowed_sources(_actor(kind), target, FULL_CAUSE)
    else:
        with pytest.raises(InvalidTransition) as err:
            check_transition(source, target, _actor(kind), FULL_CAUSE)
        assert len(str(err.value)) > 10
        assert source not in allowed_sources(_actor(kind), target, FULL_CAUSE) or source == target


@pytest.mark.parametrize("kind", list(ActorKind))
@pytest.mark.parametrize(
    "source", [S.opted_out_by_recipient, S.spam_complaint, S.hard_bounce, S.invalid]
)
@pytest.mark.parametrize("target", sorted(OPEN - {S.non_marketable}))
def test_nobody_but_the_recipient_makes_a_protected_address_marketable(kind, source, target):
    allowed = kind is R and source is S.opted_out_by_recipient and target is S.double_opt_in
    if allowed:
        check_transition(source, target, _actor(kind), FULL_CAUSE)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(source, target, _actor(kind), FULL_CAUSE)


@pytest.mark.parametrize("kind", [A, M])
def test_support_needs_a_request_to_change_anything(kind):
    with pytest.raises(InvalidTransition, match="request"):
        check_transition(S.non_marketable, S.single_opt_in, Actor(kind, 3), Cause())
    assert allowed_sources(Actor(kind, 3), S.single_opt_in, Cause()) == frozenset()


def test_a_customer_creates_single_opt_in_only_with_recorded_permission():
    with pytest.raises(InvalidTransition, match="permission"):
        check_transition(None, S.single_opt_in, Actor(C, 1), Cause())
    check_transition(None, S.single_opt_in, Actor(C, 1), Cause(consent_recorded=True))


def test_customer_reversing_an_opt_out_is_told_only_support_can():
    with pytest.raises(InvalidTransition, match="only support"):
        check_transition(S.opted_out_by_user, S.single_opt_in, Actor(C, 1))


def test_customer_and_support_changes_must_name_a_user():
    with pytest.raises(InvalidTransition, match="name the user"):
        check_transition(S.single_opt_in, S.opted_out_by_user, Actor(C, None))


# The offers to many addresses at once, written out from DOMAIN.md: which statuses each may
# change. The rule book's named sets and its skip table must agree with this and with RULES.
EXPECTED_ELIGIBLE = {
    Offer.mass_opt_out: OPEN,  # "Mass opt-out": every address that still gets mail
    Offer.mass_opt_in: {S.non_marketable},  # "Only non_marketable addresses are eligible"
    Offer.double_opt_in: {S.single_opt_in},  # "single_opt_in only"
    Offer.undo_opt_out: {S.opted_out_by_user},  # rule 5: still opted out by that batch
}


@pytest.mark.parametrize("offer", list(Offer))
def test_each_offer_has_its_eligible_statuses_and_a_reason_for_every_other(offer):
    assert ELIGIBLE_FOR[offer] == EXPECTED_ELIGIBLE[offer]
    assert {s for s in S if is_eligible(offer, s)} == EXPECTED_ELIGIBLE[offer]
    reasons = skip_reasons(offer)
    assert set(reasons) | ELIGIBLE_FOR[offer] == set(S)
    if offer is not Offer.undo_opt_out:  # an undo also skips addresses opted out again later
        assert not set(reasons) & ELIGIBLE_FOR[offer]


def test_named_sets_are_the_ones_the_offers_use():
    assert ELIGIBLE_FOR[Offer.mass_opt_in] == ELIGIBLE_FOR_MASS_OPT_IN
    assert ELIGIBLE_FOR[Offer.mass_opt_out] == ELIGIBLE_FOR_MASS_OPT_OUT
    assert ELIGIBLE_FOR[Offer.double_opt_in] == ELIGIBLE_FOR_DOUBLE_OPT_IN
    assert ELIGIBLE_FOR[Offer.undo_opt_out] == UNDOABLE
    assert set(RESTORABLE_BY_UNDO) == OPEN  # a mass opt-out only ever changed open addresses


@pytest.mark.parametrize(
    ("offer", "kind", "target"),
    [
        (Offer.mass_opt_out, C, S.opted_out_by_user),
        (Offer.mass_opt_in, A, S.single_opt_in),
        (Offer.double_opt_in, R, S.double_opt_in),
        *[(Offer.undo_opt_out, A, prior) for prior in RESTORABLE_BY_UNDO],
    ],
)
def test_every_eligible_address_may_make_the_move(offer, kind, target):
    assert ELIGIBLE_FOR[offer] <= allowed_sources(_actor(kind), target, FULL_CAUSE)


@pytest.mark.parametrize(
    ("permission", "status"), [(True, S.single_opt_in), (False, S.non_marketable)]
)
def test_a_new_address_starts_from_the_permission_answer(permission, status):
    assert status_for_permission(permission) is status
    check_transition(None, status, _actor(C), Cause(import_batch_id=1))
