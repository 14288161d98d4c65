"""Schemathesis against the API's own OpenAPI document, through the WSGI app.

Every operation is called with generated data (a bounded, reproducible number of examples) as
a customer's and as an agent's write token. No call may answer 5xx, every answer must match
the status codes, media types and schema the document declares, and a customer's answers may
never hold anything of another account. Data that breaks the document is refused, never a 5xx.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from requests_queue.mass_actions import mass_opt_out
from requests_queue.models import EmailField
from requests_queue.selection import ContactFilter
from support import background
from tests.conftest import NOW, actor_of

EXAMPLES = 8  # per operation and token: the whole file stays near 90 s on both databases
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Calls that break the document (wrong types, missing fields, hostile strings) are refused as
# problems, never with a 5xx.
INVALID_EXAMPLES = 4
INVALID_CHECKS = [not_a_server_error, content_type_conformance]
# Everything of the other account carries this marker in a name, an address or a tag.
MARKER = "globex"


@pytest.fixture
def world(
    app, tmp_path, session, customer, other_customer, agent, make_contact, file_opt_in, make_token
):
    """Two accounts with contacts, tags, a mass opt-out and requests; a token per role."""
    app.config["API_RATE_LIMIT"] = "1000000/minute"
    for owner, slug in ((customer, "acme"), (other_customer, MARKER)):
        for i in range(3):
            make_contact(
                owner,
                first_name=f"{slug}-person{i}",
                consent=i == 0,
                tags=(f"{slug}-tag",),
                email=f"{slug}{i}@{slug}.example",
                email2=f"{slug}{i}.b@{slug}.example",
            )
        mass_opt_out(
            session,
            ContactFilter(owner.account_id, search=f"{slug}-person0"),
            (EmailField.email,),
            actor_of(owner),
            NOW,
            1,
        )
        session.commit()
        file_opt_in(owner, n=2, prefix=f"{slug}-req")
    yield {"customer": make_token(customer), "agent": make_token(agent)}
    background.wait("import")  # uploads the fuzzing started run in threads: let them end first


def _foreign(value, account_id: int) -> list[str]:
    """Paths in a JSON body that show another account's data."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "account_id" and item != account_id:
                found.append(f"account_id {item}")
            found += _foreign(item, account_id)
    elif isinstance(value, list):
        for item in value:
            found += _foreign(item, account_id)
    return found


def _strategy(operation, mode=GenerationMode.POSITIVE):
    """Generated cases, and cases aimed at rows that exist in either account."""
    names = {p.name for p in operation.path_parameters}
    aimed = []
    if "email" in names:
        aimed = [{"email": f"{slug}0@{slug}.example"} for slug in ("acme", MARKER)]
    elif len(names) == 1:
        (name,) = names
        aimed = [{name: n} for n in (1, 2, 3, 4)]  # both accounts' first rows
    return st.one_of(
        operation.as_strategy(mode),
        *(operation.as_strategy(mode, path_parameters=p) for p in aimed),
    )


def _fuzz(
    app, token: str, account_id: int | None, mode=GenerationMode.POSITIVE, n: int = EXAMPLES
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=n,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, mode))
        def call(case):
            response = case.call(headers=headers)
            checks = CHECKS if mode is GenerationMode.POSITIVE else INVALID_CHECKS
            case.validate_response(response, checks=checks, headers=headers)
            if account_id is not None and response.status_code < 300 and response.content:
                text = response.text
                assert MARKER not in text.lower(), f"{case.path}: another account's data"
                assert not _foreign(json.loads(text), account_id), case.path

        call()


def test_no_operation_fails_for_a_customers_token(app, world, customer):
    _fuzz(app, world["customer"], customer.account_id)


def test_no_operation_fails_for_an_agents_token(app, world):
    _fuzz(app, world["agent"], None)


def test_invalid_input_is_refused_as_documented(app, world, customer):
    _fuzz(app, world["customer"], customer.account_id, GenerationMode.NEGATIVE, INVALID_EXAMPLES)
