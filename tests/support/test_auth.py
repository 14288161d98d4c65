"""Logging in and out, where login leads next, roles, cookies and CSRF.

Limits on failed logins: test_login_limits.py; ending sessions: test_sessions.py.
"""

import pytest

from requests_queue.models import Role

from ..conftest import PASSWORD


def test_login_sends_each_role_to_its_home(client, customer, agent, manager):
    homes = ((customer, "/home"), (agent, "/desk/mine"), (manager, "/manager/dashboard"))
    for user, home in homes:
        response = client.login(user.email)
        assert response.status_code == 302 and response.headers["Location"] == home
        client.logout()


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, customer):
    response = client.login(customer.email, "wrong-password")
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    unknown = client.login("nobody@acme.example", "wrong-password").get_data(as_text=True)
    assert "Wrong email or password." in unknown


def test_session_cookie_is_httponly_and_samesite(client, customer):
    response = client.login(customer.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_stored_hashed(customer):
    assert customer.password_hash.startswith("$argon2id$")
    assert PASSWORD not in customer.password_hash


def test_a_post_without_csrf_token_gets_a_readable_400(client, customer):
    client.login(customer.email)
    response = client.post("/contacts/new", {"first_name": "X"}, csrf=False)
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)


def test_logout_needs_a_post(client, customer):
    client.login(customer.email)
    assert client.get("/logout").status_code == 405
    client.logout()
    assert client.get("/contacts").status_code == 302


# Raw query strings, as a browser or an attacker's script sends them.
OFF_SITE_NEXT = [
    "next=/%09/evil.example",  # browsers drop the tab: "//evil.example"
    "next=/\t/evil.example",
    "next=//evil.example",
    "next=%2F%2Fevil.example",
    "next=/\\evil.example",  # browsers read the backslash as "/"
    "next=/%5Cevil.example",
    "next=https://evil.example",
    "next=https:evil.example",
    "next=/%0d%0aSet-Cookie:x",  # header injection
    "next=javascript:alert(1)",
    "next=/contacts\r\nSet-Cookie:x=1",  # CR/LF raw in the query string
    "next=/contacts%00",
    "next=%20//evil.example",
    "next=/%E2%80%8B/evil.example",  # a zero-width space
    "next=//[",  # not even a valid URL (an unclosed IPv6 host)
]


@pytest.mark.parametrize("query", OFF_SITE_NEXT, ids=repr)
def test_next_parameter_never_leads_off_site_nor_fails(client, customer, query):
    response = client.post(
        "/login", {"email": customer.email, "password": PASSWORD}, query_string=query
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


def test_next_parameter_with_a_path_and_query_on_this_site_is_followed(client, customer):
    response = client.post(
        "/login",
        {"email": customer.email, "password": PASSWORD},
        query_string="next=/contacts%3Ftag%3D1",
    )
    assert response.headers["Location"] == "/contacts?tag=1"


@pytest.mark.parametrize(
    ("role", "url", "expected"),
    [
        (Role.customer, "/desk/", 403),
        (Role.customer, "/manager/", 403),
        (Role.agent, "/contacts", 403),
        (Role.agent, "/manager/", 403),
        (Role.manager, "/desk/", 200),
        (Role.manager, "/contacts", 403),
        (None, "/contacts", 302),
        (None, "/desk/", 302),
    ],
)
def test_roles_are_checked_on_the_server(client, customer, agent, manager, role, url, expected):
    users = {Role.customer: customer, Role.agent: agent, Role.manager: manager}
    if role is not None:
        client.login(users[role].email)
    assert client.get(url).status_code == expected
