"""Saved replies through the desk: managing them, picking one in the ask and reject forms."""

import html
import re
from html.parser import HTMLParser

import sqlalchemy as sa

from requests_queue.models import ReplyPurpose, RequestEvent, RequestEventKind, Role, SavedReply
from requests_queue.requests.lifecycle import claim_request
from requests_queue.requests.saved_replies import ReplyInput, create_reply
from tests.conftest import NOW, actor_of

ALL_BUT_LINKS = ["reason", "last_sent", "explicit_permission", "permission_details",
                 "list_source", "attestation"]  # fmt: skip


def _reply(session, user, body, purpose=ReplyPurpose.question, shared=False, title="Which form"):
    reply = create_reply(session, ReplyInput(title, body, purpose, shared), actor_of(user), NOW)
    session.commit()
    return reply


def _textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    return found.group(1)


def _claimed(session, customer, agent, file_opt_in):
    customer.name = 'Ada <script>alert("x")</script>'
    req = file_opt_in(customer, n=1)
    claim_request(session, req, actor_of(agent), NOW)
    session.commit()
    return req


def test_agent_saves_a_personal_reply_and_an_unknown_placeholder_is_refused(client, session, agent):
    client.login(agent.email)
    bad = client.post(
        "/desk/replies",
        {"title": "Forms", "purpose": "question", "body": "Dear {customer}, which form?"},
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    help_of_body = re.search(r'<small id="body-help">(.*?)</small>', page, re.S).group(1)
    assert "Unknown placeholder {customer}; use {customer_name}" in help_of_body
    assert session.scalar(sa.select(sa.func.count()).select_from(SavedReply)) == 0
    good = client.post(
        "/desk/replies",
        {"title": "Forms", "purpose": "question", "body": "Dear {customer_name}, which form?"},
    )
    assert good.status_code == 302
    (reply,) = session.scalars(sa.select(SavedReply)).all()
    assert (reply.owner_id, reply.is_shared) == (agent.id, False)
    listing = client.get("/desk/replies").get_data(as_text=True)
    assert "Dear {customer_name}, which form?" in listing
    assert 'name="shared"' not in listing  # only managers are offered a shared reply


def test_only_managers_add_and_change_shared_replies(client, session, agent, manager):
    client.login(agent.email)
    sneaky = {"title": "T", "purpose": "rejection", "body": "No.", "shared": "y"}
    assert client.post("/desk/replies", sneaky).status_code == 403
    client.logout()
    client.login(manager.email)
    assert client.post("/desk/replies", sneaky).status_code == 302
    shared = session.scalars(sa.select(SavedReply)).one()
    assert shared.is_shared
    client.logout()
    client.login(agent.email)
    assert "Managers edit it" in client.get("/desk/replies").get_data(as_text=True)
    assert client.get(f"/desk/replies/{shared.id}").status_code == 403
    edit = {"title": "Mine now", "purpose": "rejection", "body": "Changed"}
    assert client.post(f"/desk/replies/{shared.id}", edit).status_code == 403
    assert client.post(f"/desk/replies/{shared.id}/delete").status_code == 403
    session.expire_all()
    assert session.get(SavedReply, shared.id).body == "No."


def test_another_agents_personal_reply_is_not_found(client, session, agent, make_user):
    other = make_user("other@support.example", Role.agent)
    theirs = _reply(session, other, "Private {request_number}")
    client.login(agent.email)
    assert client.get(f"/desk/replies/{theirs.id}").status_code == 404
    assert client.post(f"/desk/replies/{theirs.id}/delete").status_code == 404
    assert "Private" not in client.get("/desk/replies").get_data(as_text=True)


def test_owner_edits_and_deletes_a_personal_reply(client, session, agent):
    mine = _reply(session, agent, "Old text")
    client.login(agent.email)
    bad = client.post(
        f"/desk/replies/{mine.id}", {"title": "T", "purpose": "question", "body": "{oops}"}
    )
    assert bad.status_code == 400 and "Unknown placeholder {oops}" in bad.get_data(as_text=True)
    ok = client.post(
        f"/desk/replies/{mine.id}",
        {"title": "T", "purpose": "question", "body": "New {request_number}"},
    )
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(SavedReply, mine.id).body == "New {request_number}"
    assert client.post(f"/desk/replies/{mine.id}/delete").status_code == 302
    session.expire_all()
    assert session.get(SavedReply, mine.id) is None


def test_using_a_reply_fills_the_question_escaped_and_editable_then_sends_what_was_edited(
    client, session, customer, agent, manager, file_opt_in
):
    req = _claimed(session, customer, agent, file_opt_in)
    shared = _reply(
        session,
        manager,
        "Hello {customer_name}, about {request_number} (expected by {expected_by}): "
        "please send {missing_evidence}.",
        shared=True,
    )
    client.login(agent.email)
    review = client.get(f"/desk/requests/{req.id}").get_data(as_text=True)
    assert f'<option value="{shared.id}">Shared · Which form</option>' in review
    used = client.post(
        f"/desk/requests/{req.id}/use-reply",
        {"use": "ask", "ask_reply": str(shared.id), "checklist": ALL_BUT_LINKS},
    )
    page = used.get_data(as_text=True)
    assert used.status_code == 200
    raw = _textarea(page, "question")
    assert "<script>" not in raw and "&lt;script&gt;" in raw  # escaped like any user text
    text = html.unescape(raw)
    assert text.startswith(
        f'Hello Ada <script>alert("x")</script>, about {req.number} (expected by '
    )
    assert text.endswith("please send Sign-up form links.")
    assert len(re.findall(r'name="checklist" value="\w+" form="approve-form" checked', page)) == 6
    assert (
        session.scalars(
            sa.select(RequestEvent).where(RequestEvent.kind == RequestEventKind.question)
        ).all()
        == []
    )  # nothing is sent until the agent sends it
    edited = text.replace("please send", "could you send")
    assert client.post(f"/desk/requests/{req.id}/ask", {"question": edited}).status_code == 302
    asked = session.scalars(
        sa.select(RequestEvent).where(RequestEvent.kind == RequestEventKind.question)
    ).one()
    assert asked.body == edited


def test_using_a_rejection_reply_fills_the_message(client, session, customer, agent, file_opt_in):
    req = _claimed(session, customer, agent, file_opt_in)
    mine = _reply(session, agent, "Sorry, {request_number} lacks {missing_evidence}.",
                  ReplyPurpose.rejection)  # fmt: skip
    client.login(agent.email)
    used = client.post(
        f"/desk/requests/{req.id}/use-reply", {"use": "reject", "reject_reply": str(mine.id)}
    )
    assert used.status_code == 200
    text = html.unescape(_textarea(used.get_data(as_text=True), "message"))
    assert text.startswith(f"Sorry, {req.number} lacks Why not opted in now, Last email sent, ")


def test_using_no_reply_the_wrong_kind_or_anothers_is_refused(
    client, session, customer, agent, make_user, file_opt_in
):
    req = _claimed(session, customer, agent, file_opt_in)
    other = make_user("other@support.example", Role.agent)
    theirs = _reply(session, other, "Theirs")
    question = _reply(session, agent, "A question")
    client.login(agent.email)
    url = f"/desk/requests/{req.id}/use-reply"
    none = client.post(url, {"use": "ask", "ask_reply": "0"})
    assert none.status_code == 400
    help_of_picker = re.search(
        r'<small id="ask_reply-help">(.*?)</small>', none.get_data(as_text=True), re.S
    )
    assert "Choose a saved reply." in help_of_picker.group(1)
    wrong = client.post(url, {"use": "reject", "reject_reply": str(question.id)})
    assert wrong.status_code == 400
    assert "Choose a saved reply made for this form (Rejection message)." in wrong.get_data(
        as_text=True
    )
    assert client.post(url, {"use": "ask", "ask_reply": str(theirs.id)}).status_code == 404
    assert client.get(url).headers["Location"] == f"/desk/requests/{req.id}"  # a reload
    assert client.post(url, {"use": "note", "ask_reply": str(question.id)}).status_code == 400
    no_token = client.post(url, {"use": "ask", "ask_reply": str(question.id)}, csrf=False)
    assert no_token.status_code == 400


def test_the_menu_leads_agents_and_managers_to_their_saved_replies(
    client, agent, manager, customer
):
    for user in (agent, manager):
        client.login(user.email)
        assert '<a href="/desk/replies">Saved replies</a>' in client.get("/desk/").get_data(
            as_text=True
        )
        client.logout()
    client.login(customer.email)
    assert "Saved replies" not in client.get("/home").get_data(as_text=True)


class _Controls(HTMLParser):
    """The named controls of a page and the form each belongs to (its `form` attribute, else
    the <form> around it), as a browser reads them to decide what a button sends."""

    def __init__(self):
        super().__init__()
        self.form = None
        self.controls = []  # (form id, tag, attributes)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = attrs.get("id")
        elif tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            self.controls.append((attrs.get("form") or self.form, tag, attrs))

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None


def _sent_without_js(page: str, button: tuple[str, str], entered: dict) -> tuple[str, dict]:
    """Where pressing `button` (its name and value) posts without JavaScript, and what: the
    hidden fields and the `entered` values of the controls in that button's form only."""
    parser = _Controls()
    parser.feed(page)
    ((form, _, pressed),) = [
        c for c in parser.controls if c[1] == "button" and (c[2]["name"], c[2]["value"]) == button
    ]
    data = {button[0]: button[1]}
    for owner, tag, attrs in parser.controls:
        name = attrs["name"]
        if owner != form or tag == "button":
            continue
        if attrs.get("type") == "hidden":
            data[name] = attrs["value"]
        elif name in entered:
            data[name] = entered[name]
    return pressed["formaction"], data


def test_use_without_javascript_fills_the_message_and_keeps_what_was_entered(
    client, session, customer, agent, file_opt_in
):
    req = _claimed(session, customer, agent, file_opt_in)
    mine = _reply(session, agent, "Sorry, {request_number} lacks {missing_evidence}.",
                  ReplyPurpose.rejection)  # fmt: skip
    client.login(agent.email)
    review = client.get(f"/desk/requests/{req.id}").get_data(as_text=True)
    entered = {  # what the agent chose and typed on the page before pressing "Use"
        "reason": "third_party_list",
        "message": "My own draft",
        "reject_reply": str(mine.id),
        "question": "Which form did they sign?",
        "checklist": ALL_BUT_LINKS,
    }
    action, sent = _sent_without_js(review, ("use", "reject"), entered)
    used = client.post(action, sent, csrf=False)
    page = used.get_data(as_text=True)
    assert used.status_code == 200
    assert html.unescape(_textarea(page, "message")) == (
        f"Sorry, {req.number} lacks Sign-up form links."
    )
    assert '<option selected value="third_party_list">' in page  # the reason chosen stays
    assert html.unescape(_textarea(page, "question")) == "Which form did they sign?"
    assert len(re.findall(r'name="checklist" value="\w+" form="approve-form" checked', page)) == 6
    session.expire_all()
    assert req.state.value == "in_review"  # nothing was decided
    assert (
        session.scalars(
            sa.select(RequestEvent).where(RequestEvent.kind == RequestEventKind.rejected)
        ).all()
        == []
    )
