"""The evidence rules of DOMAIN.md, one table row per rule and edge."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from requests_queue.errors import ValidationError
from requests_queue.models import ListSource
from requests_queue.requests.evidence import (
    EvidenceInput,
    check_evidence,
    evidence_problems,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GOOD = EvidenceInput(
    reason="r" * 30,
    last_sent=date(2026, 10, 1),
    explicit_permission="yes",
    permission_details="d" * 50,
    form_links=("https://acme.example/signup",),
    list_source="website_form",
    attested=True,
)


def test_accepts_complete_evidence_and_trims_it():
    checked = check_evidence(replace(GOOD, reason="  " + "r" * 30 + "  "), NOW)
    assert checked.reason == "r" * 30
    assert checked.last_sent_on == date(2026, 10, 1)
    assert checked.list_source is ListSource.website_form
    assert not checked.never_sent


def test_never_sent_is_stored_as_no_date():
    checked = check_evidence(replace(GOOD, last_sent="never"), NOW)
    assert checked.last_sent_on is None and checked.never_sent


REFUSED = [
    ("reason", {"reason": ""}, "required"),
    ("reason", {"reason": "r" * 29}, "at least 30 characters"),
    ("reason", {"reason": " " * 40 + "short"}, "at least 30 characters"),
    ("reason", {"reason": "r" * 5001}, "under 5000"),
    ("last_sent_on", {"last_sent": None}, "or say never"),
    ("last_sent_on", {"last_sent": date(2026, 11, 22)}, "cannot be in the future"),
    ("explicit_permission", {"explicit_permission": "no"}, "signs up again"),
    ("explicit_permission", {"explicit_permission": ""}, "answer whether"),
    ("explicit_permission", {"explicit_permission": "maybe"}, "answer whether"),
    ("permission_details", {"permission_details": "d" * 49}, "at least 50 characters"),
    ("form_links", {"form_links": ()}, "at least one link"),
    ("form_links", {"form_links": ("", "  ")}, "at least one link"),
    ("form_links", {"form_links": ("acme.example/signup",)}, "not a full web address"),
    ("form_links", {"form_links": ("/signup",)}, "not a full web address"),
    ("form_links", {"form_links": ("ftp://acme.example/f",)}, "not a full web address"),
    ("form_links", {"form_links": ("javascript:alert(1)",)}, "not a full web address"),
    ("form_links", {"form_links": ("https://",)}, "not a full web address"),
    ("form_links", {"form_links": ("https://[bad",)}, "not a full web address"),
    ("form_links", {"form_links": ("https://a.example/x y",)}, "contains spaces"),
    ("form_links", {"form_links": ("https://a.example/" + "x" * 2000,)}, "at most 2000"),
    (
        "form_links",
        {"form_links": tuple(f"https://a.example/{i}" for i in range(11))},
        "at most 10 links",
    ),
    ("list_source", {"list_source": ""}, "choose where"),
    ("list_source", {"list_source": "bought"}, "choose where"),
    ("attested", {"attested": False}, "not purchased, rented, borrowed or harvested"),
]


@pytest.mark.parametrize(("field", "change", "message"), REFUSED)
def test_rejects_evidence_that_breaks_a_rule(field, change, message):
    with pytest.raises(ValidationError) as err:
        check_evidence(replace(GOOD, **change), NOW)
    assert err.value.field == field
    assert message in err.value.reason


ACCEPTED = [
    {"reason": "r" * 30},
    {"permission_details": "d" * 50},
    {"last_sent": date(2026, 11, 20)},
    # Already the 21st somewhere east of UTC (UTC+14 at most): not in the future there.
    {"last_sent": date(2026, 11, 21)},
    {"form_links": ("http://acme.example",)},
    {"form_links": ("HTTPS://Acme.example/Sign-Up?x=1#top",)},
    {"form_links": tuple(f"https://a.example/{i}" for i in range(10))},
    {"list_source": "other"},
]


@pytest.mark.parametrize("change", ACCEPTED)
def test_accepts_evidence_at_the_edge_of_each_rule(change):
    check_evidence(replace(GOOD, **change), NOW)


def test_drops_repeated_links_and_blank_lines():
    links = ("https://a.example/f", "", "https://a.example/f", " https://b.example/g ")
    checked = check_evidence(replace(GOOD, form_links=links), NOW)
    assert checked.form_links == ("https://a.example/f", "https://b.example/g")


def test_lists_every_broken_rule_at_once_in_form_order():
    problems = evidence_problems(EvidenceInput(), NOW)
    assert [p.field for p in problems] == [
        "reason",
        "last_sent_on",
        "explicit_permission",
        "permission_details",
        "form_links",
        "list_source",
        "attested",
    ]


def test_no_to_explicit_permission_explains_why_and_what_is_left():
    with pytest.raises(ValidationError) as err:
        check_evidence(replace(GOOD, explicit_permission="no"), NOW)
    assert "cannot be opted in" in err.value.reason
    # DOMAIN.md: they stay non-marketable until each person signs up again; double opt-in
    # refuses non-marketable addresses, so it is never the advice.
    assert "stay non-marketable until each person signs up again" in err.value.reason
    assert "double opt-in" not in err.value.reason
