"""Saved replies: placeholders checked when saved and filled in once; who sees and changes which."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from requests_queue.errors import NotFound, ValidationError
from requests_queue.models import ReplyPurpose, Role
from requests_queue.requests.saved_replies import (
    ReplyInput,
    create_reply,
    delete_reply,
    fill_in,
    get_reply,
    missing_evidence,
    placeholders_in,
    reply_values,
    update_reply,
    visible_replies,
)
from requests_queue.requests.state_machine import NotAllowed
from tests.conftest import NOW, actor_of

Q = ReplyPurpose.question


@pytest.mark.parametrize(
    "body, names",
    [
        ("Hello {customer_name}, about {request_number}.", ["customer_name", "request_number"]),
        ("Expected by {expected_by}; send {missing_evidence}", ["expected_by", "missing_evidence"]),
        ("No placeholder at all", []),
        ("Literal {{braces}} stay", []),
    ],
)
def test_known_placeholders_are_accepted(body, names):
    assert placeholders_in(body) == names


@pytest.mark.parametrize(
    "body, says",
    [
        ("Dear {customer}", "unknown placeholder {customer}; use {customer_name}, "),
        ("Dear {}", "unknown placeholder {}"),
        ("Dear {0}", "unknown placeholder {0}"),
        ("A stray { brace", "write {{ or }} for a literal brace"),
        ("A stray } brace", "write {{ or }} for a literal brace"),
        ("{customer_name!r}", "write the placeholder as {customer_name}, with nothing after"),
        ("{request_number:>20}", "write the placeholder as {request_number}"),
    ],
)
def test_raises_on_unknown_or_malformed_placeholders(body, says):
    with pytest.raises(ValidationError) as exc:
        placeholders_in(body)
    assert exc.value.field == "body" and says in exc.value.reason


def test_fill_in_substitutes_once_and_keeps_literal_braces():
    text = fill_in(
        "Hi {customer_name}, {{ok}} {request_number}",
        {"customer_name": "{request_number} <b>", "request_number": "R-000007"},
    )
    assert text == "Hi {request_number} <b>, {ok} R-000007"


@pytest.mark.parametrize(
    "ticked, words",
    [
        ([], "Why not opted in now, Last email sent, Explicit permission for each contact, "
         "How, when and where permission was obtained, Sign-up form links, List source and "
         "Attestation"),
        (["reason", "last_sent", "explicit_permission", "permission_details", "list_source",
          "attestation"], "Sign-up form links"),
        (["reason", "last_sent", "explicit_permission", "permission_details", "attestation"],
         "Sign-up form links and List source"),
    ],
)  # fmt: skip
def test_missing_evidence_names_the_unticked_items(ticked, words):
    assert missing_evidence(ticked) == words


def test_reply_values_come_from_the_request(session, customer, file_opt_in):
    customer.name = "Ada Lovelace"
    req = file_opt_in(customer, n=1)
    expected = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    values = reply_values(req, expected, ["reason"])
    assert values["customer_name"] == "Ada Lovelace"
    assert values["request_number"] == req.number
    assert values["expected_by"] == "Wednesday 25 November 2026, 17:00 UTC"
    assert values["missing_evidence"].startswith("Last email sent, ")
    assert reply_values(req, None)["expected_by"] == "no date (decided)"


def test_expected_by_reads_in_the_customers_zone_with_the_team_time(session, customer, file_opt_in):
    customer.time_zone = "Europe/Berlin"
    req = file_opt_in(customer, n=1)
    team_due = datetime(2026, 11, 25, 17, 0, tzinfo=ZoneInfo("America/Phoenix"))
    assert reply_values(req, team_due)["expected_by"] == (
        "Thursday 26 November 2026, 01:00 CET (Wed 25 Nov, 17:00 MST team time)"
    )


def _new(session, user, title="Which form?", body="Which form, {customer_name}?", shared=False):
    reply = create_reply(session, ReplyInput(title, body, Q, shared), actor_of(user), NOW)
    session.commit()
    return reply


def test_each_sees_the_shared_replies_and_only_their_own(session, agent, manager, make_user):
    other = make_user("other@support.example", Role.agent)
    shared = _new(session, manager, "Shared one", shared=True)
    mine = _new(session, agent, "Mine")
    theirs = _new(session, other, "Theirs")
    assert visible_replies(session, actor_of(agent)) == [shared, mine]
    assert visible_replies(session, actor_of(other), Q) == [shared, theirs]
    assert visible_replies(session, actor_of(agent), ReplyPurpose.rejection) == []
    with pytest.raises(NotFound):
        get_reply(session, theirs.id, actor_of(agent))


def test_raises_if_an_agent_adds_or_changes_a_shared_reply(session, agent, manager):
    with pytest.raises(NotAllowed):
        _new(session, agent, shared=True)
    shared = _new(session, manager, shared=True)
    with pytest.raises(NotAllowed):
        update_reply(session, shared, ReplyInput("X", "Y", Q), actor_of(agent), NOW)
    with pytest.raises(NotAllowed):
        delete_reply(session, shared, actor_of(agent))
    update_reply(session, shared, ReplyInput("Renamed", "New text", Q), actor_of(manager), NOW)
    assert (shared.title, shared.body, shared.is_shared) == ("Renamed", "New text", True)


def test_another_agents_personal_reply_does_not_exist_for_you(session, agent, make_user):
    other = make_user("other@support.example", Role.agent)
    theirs = _new(session, other)
    with pytest.raises(NotFound):
        update_reply(session, theirs, ReplyInput("X", "Y", Q), actor_of(agent), NOW)
    with pytest.raises(NotFound):
        delete_reply(session, theirs, actor_of(agent))


@pytest.mark.parametrize(
    "data, field",
    [
        (ReplyInput("", "Text", Q), "title"),
        (ReplyInput("t" * 81, "Text", Q), "title"),
        (ReplyInput("Title", "Text", None), "purpose"),
        (ReplyInput("Title", "  ", Q), "body"),
        (ReplyInput("Title", "Dear {name}", Q), "body"),
    ],
)
def test_raises_on_a_reply_that_breaks_a_rule(session, agent, data, field):
    with pytest.raises(ValidationError) as exc:
        create_reply(session, data, actor_of(agent), NOW)
    assert exc.value.field == field
