"""`flask send-outbox`: deliver the outbox now, or keep delivering with --loop."""

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from requests_queue.mail import deliver_outbox, transport_from_config
from requests_queue.outbox import state_counts

from .extensions import db


@click.command("send-outbox")
@click.option("--loop", is_flag=True, help="Keep running, delivering every --interval seconds.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between runs.")
@click.option("--batch-size", default=200, show_default=True, help="Messages per SMTP connection.")
@with_appcontext
def send_outbox(loop: bool, interval: float, batch_size: int) -> None:
    """Send the due messages of the outbox over SMTP (SMTP_HOST, SMTP_PORT, SMTP_TLS, …)."""
    transport = transport_from_config(current_app.config)
    if transport is None:
        pending = state_counts(db.session)
        db.session.rollback()  # a command that only read: end its transaction
        click.echo(
            "SMTP_HOST is not set: nothing is sent, messages stay in the outbox "
            f"({pending_summary(pending)}). Managers see them at /manager/outbox."
        )
        return
    while True:
        report = deliver_outbox(db.session, transport, batch_size=batch_size)
        counts = (report.sent, report.retrying, report.failed, report.uncertain, report.withdrawn)
        if any(counts) or not loop:
            click.echo(
                f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"
                + (f", uncertain {report.uncertain}" if report.uncertain else "")
                + (f", withdrawn {report.withdrawn}" if report.withdrawn else "")
                + (f" — {report.connect_error}" if report.connect_error else "")
            )
        if not loop:
            return
        time.sleep(interval)


def pending_summary(counts) -> str:
    """'3 pending, 1 failed' from the outbox's counts by state."""
    parts = [f"{n} {state.value}" for state, n in counts.items() if n]
    return ", ".join(parts) or "empty"
