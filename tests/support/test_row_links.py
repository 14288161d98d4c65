"""A table's row links built once per page (`url_by_id`, issue 16's queue page) are exactly
the links the router builds, also when the app is served under a path prefix."""

import pytest
from flask import url_for

from support.templating import _url_by_id


@pytest.mark.parametrize("base_url", ["http://desk.example/", "http://desk.example/support/"])
@pytest.mark.parametrize(
    ("endpoint", "key"),
    [
        ("agent.review", "request_id"),
        ("agent.claim", "request_id"),
        ("customer.contact", "contact_id"),
    ],
)
def test_each_rows_link_is_the_routers(app, base_url, endpoint, key):
    with app.test_request_context("/", base_url=base_url):
        link = _url_by_id(endpoint, key)
        for value in (1, 42, 987_654_321, 2**40):
            assert link(value) == url_for(endpoint, **{key: value})


def test_the_queue_links_each_request_to_its_review_and_claim(
    client, agent, customer, other_customer, file_opt_in
):
    filed = [file_opt_in(customer, n=1, prefix="a"), file_opt_in(other_customer, n=1, prefix="b")]
    client.login(agent.email)
    page = client.get("/desk/").get_data(as_text=True)
    for req in filed:
        assert f'<a href="/desk/requests/{req.id}">{req.number}</a>' in page
        assert f'action="/desk/requests/{req.id}/claim"' in page
