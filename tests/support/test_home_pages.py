"""Each role's first page says what needs them (issue 14, item 4)."""

from datetime import timedelta

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailField, ImportBatch
from requests_queue.requests import lifecycle as ops
from requests_queue.selection import ContactFilter

from ..conftest import NOW, actor_of


def test_a_customer_lands_on_a_home_with_the_question_waiting_for_them(
    client, session, customer, agent, file_opt_in
):
    asked, running = file_opt_in(customer, n=2, prefix="a"), file_opt_in(customer, prefix="b")
    ops.claim_request(session, asked, actor_of(agent), NOW + timedelta(hours=1))
    ops.ask_customer(
        session, asked, "Which form did <they> use?", actor_of(agent), NOW + timedelta(hours=2),
        base_url="http://localhost",
    )  # fmt: skip
    session.commit()
    response = client.login(customer.email)
    assert response.headers["Location"] == "/home"
    page = client.get("/home").get_data(as_text=True)
    waiting = page[page.index("Waiting for your answer") : page.index("Requests in progress")]
    assert asked.number in waiting and "Which form did &lt;they&gt; use?" in waiting
    assert f'href="/requests/{asked.id}#answer-form"' in waiting
    progress = page[page.index("Requests in progress") :]
    assert running.number in progress and asked.number not in progress
    assert "MST" in progress  # the expected date, in the team's time


def test_the_customer_home_names_what_imports_brought_in_and_the_latest_mass_action(
    client, session, customer, make_contact
):
    session.add(ImportBatch(account_id=customer.account_id, user_id=customer.id,
                            filename="spring.csv", permission_confirmed=True,
                            created_count=12, updated_count=3, skipped_count=1))  # fmt: skip
    make_contact(customer, email="x@acme.example", consent=True)
    flt = ContactFilter(customer.account_id)
    mass_opt_out(session, flt, (EmailField.email,), actor_of(customer), NOW, 1)
    session.commit()
    client.login(customer.email)
    page = client.get("/home").get_data(as_text=True)
    assert "spring.csv" in page and "12 created · 3 updated · 1 skipped" in page
    assert "Mass opt-out</a>" in page and "1 changed · 0 skipped" in page


def test_another_accounts_requests_never_show_on_a_customers_home(
    client, customer, other_customer, file_opt_in
):
    theirs = file_opt_in(other_customer)
    client.login(customer.email)
    page = client.get("/home").get_data(as_text=True)
    assert theirs.number not in page and "No request is with support right now." in page


def test_an_agent_lands_on_their_own_requests_next_deadline_first(
    client, session, customer, agent, manager, file_opt_in
):
    older, newer, others = (file_opt_in(customer, prefix=p) for p in ("o", "n", "x"))
    for req in (newer, older):
        ops.claim_request(session, req, actor_of(agent), NOW + timedelta(hours=1))
    ops.claim_request(session, others, actor_of(manager), NOW + timedelta(hours=1))
    session.commit()
    response = client.login(agent.email)
    assert response.headers["Location"] == "/desk/mine"
    page = client.get("/desk/mine").get_data(as_text=True)
    assert others.number not in page
    assert page.index(older.number) < page.index(newer.number)  # same due: filed first
    assert "Open the queue" in page and 'href="/desk/"' in page


def test_a_manager_lands_on_the_sla_dashboard_and_finds_the_jobs_under_system(client, manager):
    response = client.login(manager.email)
    assert response.headers["Location"] == "/manager/dashboard"
    dashboard = client.get("/manager/dashboard").get_data(as_text=True)
    assert "SLA dashboard" in dashboard and "Background jobs" not in dashboard
    system = client.get("/manager/system").get_data(as_text=True)
    assert "Background jobs" in system and "Send emails" in system


def test_every_page_names_its_icon_and_the_old_icon_name_leads_to_it(client, customer):
    client.login(customer.email)
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/home").get_data(as_text=True)
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.headers["Location"].endswith("favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.get_data().startswith(b"<svg")
    icon.close()
