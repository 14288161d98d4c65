"""Emails give times in their reader's zone, as the pages do (issue 14 item 5)."""

import sqlalchemy as sa

from requests_queue.models import OutboxMessage


def _filing_mail(session) -> str:
    return session.scalars(sa.select(OutboxMessage)).one().body_text


def test_the_filing_mail_gives_the_window_in_the_customers_zone_with_the_team_time(
    session, customer, file_opt_in
):
    customer.time_zone = "Europe/Berlin"
    session.commit()
    file_opt_in(customer)
    body = _filing_mail(session)
    # Due Tuesday 24 November 17:00 in Phoenix (MST) is Wednesday 01:00 in Berlin (CET);
    # the latest, Friday 27 November 17:00 MST, is Saturday 01:00 CET.
    assert (
        "expected by Wednesday 25 November 2026, 01:00 CET (Tue 24 Nov, 17:00 MST team time)"
        in body
    )
    assert (
        "at the latest Saturday 28 November 2026, 01:00 CET (Fri 27 Nov, 17:00 MST team time)"
        in body
    )


def test_a_customer_without_a_zone_reads_the_teams_time_alone(session, customer, file_opt_in):
    assert customer.time_zone is None
    file_opt_in(customer)
    body = _filing_mail(session)
    assert "expected by Tuesday 24 November 2026, 17:00 MST (3 business days)" in body
    assert "team time" not in body
