"""`flask seed-demo` and `flask create-user`."""

import sqlalchemy as sa

from requests_queue.models import Account, Contact, EmailAddress, ImportBatch, Role, Tag, User
from requests_queue.statuses import EmailStatus


def _count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_demo_creates_the_demo_accounts_once(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert "demo1234" in first.output and "customer@demo.test" in first.output
    counts = [_count(session, m) for m in (Account, User, Contact, EmailAddress, Tag, ImportBatch)]
    second = runner.invoke(args=["seed-demo"])
    assert "nothing changed" in second.output
    assert [
        _count(session, m) for m in (Account, User, Contact, EmailAddress, Tag, ImportBatch)
    ] == counts


def test_seed_demo_spreads_demo_co_over_every_status(app, session):
    app.test_cli_runner().invoke(args=["seed-demo"])
    demo = session.scalar(sa.select(Account).where(Account.name == "Demo Co"))
    statuses = set(
        session.scalars(
            sa.select(EmailAddress.status).where(EmailAddress.account_id == demo.id).distinct()
        )
    )
    assert statuses == set(EmailStatus)
    contacts = session.scalar(
        sa.select(sa.func.count()).select_from(Contact).where(Contact.account_id == demo.id)
    )
    assert 150 <= contacts <= 250


def test_create_user_asks_for_a_password_and_hashes_it(app, session):
    result = app.test_cli_runner().invoke(
        args=["create-user", "New@Acme.Example", "--role", "customer", "--account", "Acme"],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User))
    assert (user.email, user.role, user.account.name) == ("new@acme.example", Role.customer, "Acme")
    assert user.password_hash.startswith("$argon2")


def test_create_user_refuses_a_customer_without_account_and_a_short_password(app, session):
    runner = app.test_cli_runner()
    no_account = runner.invoke(
        args=["create-user", "a@b.example", "--role", "customer"],
        input="long-enough\nlong-enough\n",
    )
    short = runner.invoke(
        args=["create-user", "a@b.example", "--role", "agent"], input="short\nshort\n"
    )
    assert no_account.exit_code != 0 and "belongs to an account" in no_account.output
    assert short.exit_code != 0 and "at least 8" in short.output
    assert _count(session, User) == 0


def test_seed_demo_gives_the_queue_work_in_every_open_state(app, session):
    from requests_queue.models import ConsentRequest, RequestState

    app.test_cli_runner().invoke(args=["seed-demo"])
    states = set(session.scalars(sa.select(ConsentRequest.state)))
    assert {
        RequestState.submitted,
        RequestState.in_review,
        RequestState.awaiting_customer,
        RequestState.approved,
        RequestState.rejected,
    } <= states


def test_seed_demo_gives_the_demo_agent_shared_saved_replies_once(app, session, client):
    from requests_queue.models import ConsentRequest, RequestState, SavedReply

    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    first = _count(session, SavedReply)
    runner.invoke(args=["seed-demo"])
    assert _count(session, SavedReply) == first == 3
    replies = session.scalars(sa.select(SavedReply).order_by(SavedReply.title)).all()
    assert [(r.title, r.purpose.value, r.is_shared) for r in replies] == [
        ("Ask for the sign-up form link", "question", True),
        ("Ask when the list was last mailed", "question", True),
        ("Reject: purchased or rented list", "rejection", True),
    ]
    agent = session.scalar(sa.select(User).where(User.email == "agent@demo.test"))
    claimed = session.scalar(
        sa.select(ConsentRequest.id).where(
            ConsentRequest.assignee_id == agent.id,
            ConsentRequest.state == RequestState.in_review,
        )
    )
    client.login("agent@demo.test", "demo1234")
    review = client.get(f"/desk/requests/{claimed}").get_data(as_text=True)
    for reply in replies:
        assert f'<option value="{reply.id}">Shared · {reply.title}</option>' in review
