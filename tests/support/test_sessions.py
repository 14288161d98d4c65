"""Logging out, a password change and "sign out everywhere" end sessions saved elsewhere."""

from support.auth.passwords import verify_password

from ..conftest import PASSWORD, Client

NEW_PASSWORD = "battery-staple-2"


def copy_of(app, client: Client) -> Client:
    """A second browser holding the same cookies (a saved or stolen session cookie)."""
    other = Client(app)
    cookie = client.http.get_cookie("session", domain="localhost")
    other.http.set_cookie("session", cookie.value, domain="localhost")
    return other


def logged_in(client: Client, page: str = "/contacts") -> bool:
    """True when `page` opens instead of sending the visitor to the login page."""
    return client.get(page).status_code == 200


def change_password(client: Client, current: str = PASSWORD, new: str = NEW_PASSWORD, again=None):
    """Submit the password change form."""
    data = {"current_password": current, "new_password": new, "new_password_again": again or new}
    return client.post("/account", data)


def test_a_cookie_saved_before_logout_no_longer_opens_pages(app, client, customer):
    client.login(customer.email)
    saved = copy_of(app, client)
    assert logged_in(saved)
    client.logout()
    assert not logged_in(saved)
    assert saved.get("/contacts").headers["Location"].startswith("/login")


def test_logging_out_ends_the_users_sessions_on_other_devices_too(app, client, customer):
    client.login(customer.email)
    laptop = copy_of(app, client)
    client.logout()
    client.login(customer.email)  # a new session after the logout works as usual
    assert logged_in(client)
    assert not logged_in(laptop)


def test_a_session_from_before_session_versions_logs_nobody_in(client, customer):
    client.login(customer.email)
    with client.http.session_transaction() as cookie_session:
        del cookie_session["session_version"]
    assert not logged_in(client)


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, client, session, customer):
    client.login(customer.email)
    other_device = copy_of(app, client)
    response = change_password(client)
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(other_device)
    session.refresh(customer)
    assert verify_password(customer.password_hash, NEW_PASSWORD)
    client.logout()
    assert client.login(customer.email, PASSWORD).status_code == 200  # the old one is refused
    assert client.login(customer.email, NEW_PASSWORD).status_code == 302


def test_a_password_change_needs_the_current_password_and_the_new_one_twice(
    client, session, customer
):
    client.login(customer.email)
    cases = [
        ("not-my-password", NEW_PASSWORD, None, "That is not your current password."),
        (PASSWORD, "short", None, "Use at least 8 characters."),
        (PASSWORD, NEW_PASSWORD, "battery-staple-3", "The two new passwords differ."),
    ]
    for current, new, again, message in cases:
        response = change_password(client, current, new, again)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    session.refresh(customer)
    assert verify_password(customer.password_hash, PASSWORD)
    assert logged_in(client)


def test_signing_out_everywhere_ends_this_session_and_the_others(app, client, customer):
    client.login(customer.email)
    phone = copy_of(app, client)
    assert "Sign out everywhere" in client.get("/account").get_data(as_text=True)
    response = client.post("/account/sign-out-everywhere")
    assert response.headers["Location"] == "/login"
    assert not logged_in(client)
    assert not logged_in(phone)


def test_a_manager_signs_a_user_out_everywhere(app, client, customer, manager):
    customer_browser = Client(app)
    customer_browser.login(customer.email)
    assert logged_in(customer_browser)
    client.login(manager.email)
    page = client.get("/manager/users?q=acme").get_data(as_text=True)
    assert f'Sign out everywhere<span class="sr-only">: {customer.email}</span>' in page
    assert f": {manager.email}</span>" not in page  # the search narrowed the list
    response = client.post(f"/manager/users/{customer.id}/sign-out-everywhere?q=acme")
    assert response.headers["Location"] == "/manager/users?q=acme"
    assert f"{customer.email} was signed out everywhere." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert not logged_in(customer_browser)
    assert logged_in(client, "/manager/users")  # the manager's own session goes on


def test_only_managers_see_the_users_page(client, customer, agent):
    for user in (customer, agent):
        client.login(user.email)
        assert client.get("/manager/users").status_code == 403
        assert client.post(f"/manager/users/{user.id}/sign-out-everywhere").status_code == 403
        client.logout()
