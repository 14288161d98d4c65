"""The queue page kept and reused by a web process (issue 16's throughput): a second view asks
the database for less, yet every change anyone makes to what the page shows (through the web,
behind its back as a background run would, in plain SQL) is on the very next view; each viewer
gets their own counts and a CSRF token that works; the countdowns move with the clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from requests_queue.models import ConsentRequest, RejectReason
from requests_queue.requests.lifecycle import claim_request, reject_request
from tests.conftest import NOW, actor_of


def _text(response) -> str:
    """The page with its whitespace folded and its CSRF tokens (signed anew each view) blanked."""
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    return re.sub(r'(name="csrf[-_]token" (?:content|value)=")[^"]+"', r'\1…"', page)


def _rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/desk/requests/\d+">(R-\d+)</a></td>', page)


class Statements:
    """Records the statements the app sends while it is on."""

    def __init__(self, engine):
        self.sent: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._count)
        self.engine = engine

    def _count(self, _conn, _cursor, statement, *_args) -> None:
        self.sent.append(statement)

    def during(self, call):
        """`call()`'s result and the statements it sent."""
        before = len(self.sent)
        result = call()
        return result, self.sent[before:]

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


@pytest.fixture
def statements(db):
    counter = Statements(db.engine)
    yield counter
    counter.close()


@pytest.fixture
def queue(session, customer, other_customer, agent, file_opt_in):
    """Two open requests, the second claimed by the agent."""
    first = file_opt_in(customer, n=1, prefix="a")
    second = file_opt_in(other_customer, n=2, prefix="b")
    claim_request(session, second, actor_of(agent), NOW)
    session.commit()
    return first, second


def test_a_second_view_is_the_same_page_from_fewer_statements(client, agent, queue, statements):
    client.login(agent.email)
    first, sent_first = statements.during(lambda: _text(client.get("/desk/")))
    again, sent_again = statements.during(lambda: _text(client.get("/desk/")))
    assert _rows(again) == _rows(first) == [queue[0].number, queue[1].number]
    assert again == first
    assert len(sent_again) < len(sent_first) - 5  # rows, counts, staff, calendar not read again
    assert not [s for s in sent_again if "consent_requests" in s or "queue_tally" in s]


def _claim_and_reject(session, queue, agent) -> None:
    """What an agent's decision does, through the domain core and not this web process."""
    claim_request(session, queue[0], actor_of(agent), NOW)
    reject_request(
        session, queue[0], RejectReason.other, "No.", actor_of(agent), NOW, base_url="http://x"
    )


def _store_hours(session, queue, agent) -> None:
    session.execute(sa.text("INSERT INTO calendar_hours (weekday, opens, closes) "
                            "VALUES (0, '09:00', '13:00')"))  # fmt: skip
    session.execute(sa.text("INSERT INTO calendar_settings (id, timezone, country, updated_at) "
                            "VALUES (1, 'UTC', 'US', :t)"), {"t": NOW})  # fmt: skip


CHANGES = {
    # name: (what is done behind the web's back, what the next view shows)
    "rejected through the domain core": (
        _claim_and_reject,
        lambda page, q: _rows(page) == [q[1].number] and "1 open" in page,
    ),
    "claimed in plain SQL": (
        lambda s, q, a: s.execute(
            sa.text(
                "UPDATE consent_requests SET state = 'in_review', assignee_id = :a WHERE id = :r"
            ),
            {"a": a.id, "r": q[0].id},
        ),  # fmt: skip
        lambda page, q: "Mine (2)" in page and "Unassigned (0)" in page,
    ),
    "an account renamed": (
        lambda s, q, a: s.execute(
            sa.text("UPDATE accounts SET name = 'Initech' WHERE id = :i"), {"i": q[0].account_id}
        ),  # fmt: skip
        lambda page, q: "<td>Initech</td>" in page,
    ),
    "the assignee renamed": (
        lambda s, q, a: s.execute(
            sa.text("UPDATE users SET name = 'Zed Agent' WHERE id = :i"), {"i": a.id}
        ),  # fmt: skip
        lambda page, q: "<td>Zed Agent</td>" in page,
    ),
    "the address count changed": (
        lambda s, q, a: s.execute(
            sa.text("UPDATE consent_requests SET address_count = 4321 WHERE id = :r"),
            {"r": q[1].id},
        ),  # fmt: skip
        lambda page, q: "<td>4,321</td>" in page,
    ),
    "the team's hours stored": (
        _store_hours,
        lambda page, q: "one business day of 4 hours" in page,
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_made_anywhere_is_on_the_next_view(client, session, agent, queue, change):
    do, shows = CHANGES[change]
    client.login(agent.email)
    before = _text(client.get("/desk/"))
    assert _text(client.get("/desk/")) == before  # kept
    assert not shows(before, queue)
    do(session, queue, agent)
    session.commit()
    after = _text(client.get("/desk/"))
    assert shows(after, queue), after


def test_a_filing_through_the_web_shows_to_an_agent_at_once(
    client, session, customer, agent, queue, file_opt_in
):
    client.login(agent.email)
    assert "2 open" in _text(client.get("/desk/"))
    third = file_opt_in(customer, n=1, prefix="z")  # the same path the filing form takes
    session.commit()
    page = _text(client.get("/desk/"))
    assert "3 open" in page and third.number in _rows(page)


def _token(page: str, where: str) -> str:
    if where == "meta":
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    claim = re.search(r'action="/desk/requests/\d+/claim">\s*<input type="hidden" '
                      r'name="csrf_token" value="([^"]+)"', page)  # fmt: skip
    return claim.group(1)


def test_each_viewer_gets_their_own_counts_and_a_token_that_works(
    app, client, session, agent, make_user, queue
):
    other = make_user("second.agent@desk.example", role=agent.role)
    session.commit()
    client.login(agent.email)
    mine = client.get("/desk/").get_data(as_text=True)
    theirs_client = type(client)(app)
    theirs_client.login(other.email)
    theirs = theirs_client.get("/desk/").get_data(as_text=True)
    assert "Mine (1)" in mine and "Mine (0)" in theirs
    # Each page carries its own session's token, in the page head and in every form.
    assert _token(mine, "meta") == _token(mine, "claim")
    assert _token(theirs, "meta") == _token(theirs, "claim")
    assert _token(mine, "meta") != _token(theirs, "meta")
    # The second agent claims with the token of the page they were shown.
    claimed = theirs_client.post(f"/desk/requests/{queue[0].id}/claim", csrf=False,
                                 data={"csrf_token": _token(theirs, "claim")})  # fmt: skip
    assert claimed.status_code == 302
    session.expire_all()
    assert session.get(ConsentRequest, queue[0].id).assignee_id == other.id
    again = theirs_client.get("/desk/").get_data(as_text=True)
    assert "Mine (1)" in again and "Unassigned (0)" in again


def test_the_countdowns_move_with_the_clock(client, agent, queue, monkeypatch):
    import support.agent.queue_cache as kept
    import support.agent.views as views

    client.login(agent.email)

    def at(moment):
        monkeypatch.setattr(kept, "now_utc", lambda: moment)
        monkeypatch.setattr(views, "now_utc", lambda: moment)
        return re.findall(r'<td class="deadline[^"]*"[^>]*>(.*?)</td>', _text(client.get("/desk/")))

    early = at(NOW + timedelta(minutes=5))
    assert at(NOW + timedelta(minutes=5, seconds=30)) == early  # the same minute: kept
    later = at(NOW + timedelta(hours=3))
    assert later != early


def test_nothing_is_kept_when_the_setting_is_zero(app, client, agent, queue, statements):
    app.config["QUEUE_CACHE_PAGES"] = 0
    client.login(agent.email)
    first, _ = statements.during(lambda: _text(client.get("/desk/")))
    again, sent_again = statements.during(lambda: _text(client.get("/desk/")))
    assert again == first
    assert [s for s in sent_again if "FROM consent_requests" in s]  # the rows read again
