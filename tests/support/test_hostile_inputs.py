"""No input gives a 500: every route, as every role, with hostile path and query values.

The routes come from `app.url_map`, so a route added later is walked too. Every request sets
every query argument the views read (and, for a POST, the same names as form fields, with a
valid CSRF token) to one hostile value; a route's path arguments get that same value. Routes
with arguments are also asked with "1", which names a real contact, request, email and
campaign, so the views behind the lookup see hostile query values too.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from requests_queue.models import Role
from support.ids import MAX_ID, parse_number

# Decoded values: the test client encodes them into the path, query string and form body.
HOSTILE = [
    "1" + "0" * 29,  # 30 digits: overflows every integer column
    "²",  # str.isdigit() says yes, int() says no
    "٣",  # an Arabic-Indic 3: int() and `\d` accept it
    "0",  # page 0 is a negative OFFSET
    str(2**31),  # one past PostgreSQL's integer
    "\x00",  # PostgreSQL refuses NUL in text
    "x" * 2000,
    "../",
]
# Asked in paths only (the query values above already cover their kind).
PATH_ONLY = ["-1", str(2**63), " 7", "%2e%2e"]
# Every query argument a view reads (and the form fields some POST views read).
NAMES = [
    *("page", "tag", "batch", "account", "assignee", "status", "q", "days", "next", "kind"),
    *("state", "order", "direction", "fields", "start", "end", "format", "table"),
    *("expected_count", "confirm_count"),
]
_ARG = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _path(rule: str, value: str) -> str:
    """The rule's path with every argument replaced by `value` (URL-encoded)."""
    return _ARG.sub(lambda m: quote(value, safe=""), rule)


def _world(request, role: str, make_contact, file_opt_in, make_campaign):
    """Objects with id 1 for the id routes; the user of `role` (None when anonymous)."""
    customer = request.getfixturevalue("customer")
    file_opt_in(customer, n=2)  # contacts 1-2, request 1, its emails in the outbox
    make_contact(customer, first_name="Ann", consent=True, email="ann@acme.example")
    make_campaign(customer)
    return None if role == "anonymous" else request.getfixturevalue(role)


# Routes that end the role's session come last, so every other route is asked logged in.
ENDS_SESSION = {"auth.logout", "auth.sign_out_everywhere"}


def _requests(app):
    """(method, path, hostile value) for every route but static files; logging out comes last."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in ENDS_SESSION, r.rule))
    for rule in rules:
        if rule.endpoint == "static":
            continue
        for method in [m for m in ("GET", "POST") if m in rule.methods]:
            for value in HOSTILE:
                yield method, _path(rule.rule, value), value
            if rule.arguments:
                for value in PATH_ONLY:
                    yield method, _path(rule.rule, value), ""
                for value in HOSTILE[:3]:  # a real object behind the path, hostile query values
                    yield method, _path(rule.rule, "1"), value


def _send(client, method: str, url: str, value: str, token: str):
    """The response's status, or the exception the app raised (TESTING lets it through)."""
    args = dict.fromkeys(NAMES, value)
    try:
        if method == "GET":
            return client.get(url, query_string=args).status_code
        data = {**args, "csrf_token": token}
        return client.http.post(url, query_string=args, data=data).status_code
    except Exception as exc:  # noqa: BLE001  (every failure is listed, not only the first)
        return f"{type(exc).__name__}: {str(exc)[:120]}"


@pytest.mark.parametrize("role", ["anonymous", "customer", "agent", "manager"])
def test_no_route_answers_5xx_to_hostile_values(
    app, client, request, role, make_contact, file_opt_in, make_campaign, tmp_path
):
    user = _world(request, role, make_contact, file_opt_in, make_campaign)
    if user is not None:
        assert client.login(user.email).status_code == 302
    token = client.csrf_token()
    failures, answered = [], set()
    for method, url, value in _requests(app):
        status = _send(client, method, url, value, token)
        answered.add(status)
        if status == 503 and url == "/readyz":
            continue  # "not ready" is its answer here: no scheduler runs in this test
        if not isinstance(status, int) or status >= 500:
            failures.append(f"{method} {url[:80]} (all arguments {value[:20]!r}): {status}")
    assert failures == []
    if user is not None:  # the role's own pages were reached, not only redirects and 404s
        assert 200 in answered


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("007", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("1" + "0" * 29, None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("²", None),
        ("٣", None),
        ("", None),
        (None, None),
    ],
)
def test_only_ascii_digits_within_the_id_range_are_an_id(raw, expected):
    assert parse_number(raw) == expected


def test_an_id_the_database_cannot_hold_is_not_found(client, customer, make_contact):
    make_contact(customer, email="a@acme.example")  # contact 1 exists
    client.login(customer.email)
    for url in (
        "/contacts/" + "1" + "0" * 29,
        "/contacts/%C2%B2",
        "/contacts/%D9%A3",  # an Arabic-Indic 3: not contact 3, nor 1
        "/contacts/-1",
        f"/contacts/{2**31}",
        "/requests/99999999999999999999/filed",
        "/imports/100000000000000000000000000000/skipped.csv",
        "/contacts?tag=" + "1" + "0" * 29,
        "/contacts?batch=%C2%B2",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "There is nothing here" in response.get_data(as_text=True)
    assert client.get("/contacts/0001").status_code == 200  # leading zeros are still an id


def test_a_page_number_that_cannot_be_a_page_shows_the_first(client, customer, make_contact):
    make_contact(customer, first_name="Zelda", email="z@acme.example")
    client.login(customer.email)
    for page in ("0", "-1", "²", "1" + "0" * 29, str(2**31)):
        response = client.get("/contacts", query_string={"page": page})
        assert response.status_code == 200, page
        assert "Zelda" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.agent, Role.manager])
def test_the_queue_ignores_an_account_or_assignee_that_cannot_be_an_id(
    client, make_user, file_opt_in, customer, role
):
    file_opt_in(customer, n=1)
    user = make_user(f"{role.value}@support.example", role)
    client.login(user.email)
    for name in ("account", "assignee"):
        page = client.get("/desk/", query_string={name: "1" + "0" * 29, "page": "²"})
        assert page.status_code == 200
        assert "Acme" in page.get_data(as_text=True)  # unfiltered: the one request is listed
