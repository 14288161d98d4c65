"""Facts a web process keeps between views while the queue's version stays (the team's
calendar and zone, the support users): a change made anywhere is on the next page, and a
request that has written in its own transaction keeps nothing (its changes could roll back)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from requests_queue.requests import queue_version
from tests.conftest import NOW


def _assignees(page: str) -> list[str]:
    select = re.search(r'<select[^>]*name="assignee"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]+)</option>", select)


def test_a_new_agent_is_offered_on_the_next_page(client, session, manager, customer, file_opt_in):
    req = file_opt_in(customer, n=1)
    session.commit()
    client.login(manager.email)
    url = f"/desk/requests/{req.id}"
    assert "Newcomer" not in _assignees(client.get(url).get_data(as_text=True))
    session.execute(sa.text(
        "INSERT INTO users (email, name, password_hash, role, is_active, session_version, "
        "created_at) VALUES ('new@desk.example', 'Newcomer', 'x', 'agent', true, 0, :t)"),
        {"t": NOW})  # fmt: skip
    session.commit()
    assert "Newcomer" in _assignees(client.get(url).get_data(as_text=True))
    session.execute(sa.text("UPDATE users SET is_active = false WHERE name = 'Newcomer'"))
    session.commit()
    assert "Newcomer" not in _assignees(client.get(url).get_data(as_text=True))


def test_the_team_zone_set_anywhere_is_on_the_next_page(client, session, customer, agent):
    client.login(agent.email)  # an agent without a zone of their own sees team time
    session.execute(sa.text("UPDATE users SET time_zone = NULL WHERE id = :i"), {"i": agent.id})
    session.commit()
    before = client.get("/desk/shift").get_data(as_text=True)
    session.execute(sa.text("INSERT INTO calendar_settings (id, timezone, country, updated_at) "
                            "VALUES (1, 'Asia/Tokyo', 'JP', :t)"), {"t": NOW})  # fmt: skip
    session.commit()
    after = client.get("/desk/shift").get_data(as_text=True)
    assert "Asia/Tokyo" not in before and "Asia/Tokyo" in after


def test_a_transaction_that_wrote_gets_no_version(session, customer):
    assert queue_version.current_if_clean(session) is not None
    session.execute(sa.text("UPDATE accounts SET name = 'Changed' WHERE id = :i"),
                    {"i": customer.account_id})  # fmt: skip
    assert queue_version.current_if_clean(session) is None
    session.rollback()
    assert queue_version.current_if_clean(session) is not None


def test_a_fact_read_after_this_request_wrote_is_not_kept(app, session, agent):
    """The version read first, then a write, then a fact read: that fact includes the
    uncommitted write, which rolls back; the next request must not be given it."""
    from support.agent.assigning import support_users
    from support.extensions import db
    from support.kept_facts import version_now

    def names() -> list[str]:
        return [staff.display_name for staff in support_users()]

    with app.test_request_context():
        assert version_now() is not None  # clean when read
        db.session.execute(sa.text(
            "INSERT INTO users (email, name, password_hash, role, is_active, session_version, "
            "created_at) VALUES ('ghost@desk.example', 'Ghost', 'x', 'agent', true, 0, :t)"),
            {"t": NOW})  # fmt: skip
        assert "Ghost" in names()
        db.session.rollback()
    with app.test_request_context():
        assert "Ghost" not in names()
