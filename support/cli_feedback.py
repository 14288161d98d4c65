"""`flask ingest-feedback FILE --provider NAME --account NAME`: replay a saved feed file."""

import json
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from requests_queue.feedback.intake import CHUNK
from requests_queue.feedback.parsing import parse
from requests_queue.feedback.receiving import ingest
from requests_queue.feedback.reported import BadPayload
from requests_queue.models import Account
from requests_queue.models.feedback import FeedbackFeed, FeedProvider
from requests_queue.now import now_utc

from .extensions import db


def deliveries(text: str, provider: FeedProvider) -> list[bytes]:
    """The file's deliveries, each a body as the provider posted it.

    JSON Lines (one delivery a line), or one JSON document: for SendGrid and the generic
    format that document is one delivery; for the others a list is a list of deliveries.
    """
    try:
        whole = json.loads(text)
    except ValueError:
        return [line.encode() for line in text.splitlines() if line.strip()]
    if isinstance(whole, list) and provider not in (FeedProvider.sendgrid, FeedProvider.standard):
        return [json.dumps(item).encode() for item in whole]
    return [text.encode()]


@click.command("ingest-feedback")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", type=click.Choice([p.value for p in FeedProvider]), required=True)
@click.option("--account", "account_name", required=True, help="The account the feed is of.")
@click.option("--feed", "feed_name", help="The feed's name, when the account has several.")
@with_appcontext
def ingest_feedback(file: Path, provider: str, account_name: str, feed_name: str | None) -> None:
    """Replay a saved feed file into the account's feed of that provider.

    Signatures are not checked (the file is the operator's own copy); events already stored
    are skipped, so replaying a file twice changes nothing the second time.
    """
    kind = FeedProvider(provider)
    account_id = db.session.scalar(sa.select(Account.id).where(Account.name == account_name))
    if account_id is None:
        raise click.BadParameter(f"no account named {account_name!r}", param_hint="--account")
    query = sa.select(FeedbackFeed).where(
        FeedbackFeed.account_id == account_id, FeedbackFeed.provider == kind
    )
    if feed_name:
        query = query.where(FeedbackFeed.name == feed_name)
    feeds = db.session.scalars(query.order_by(FeedbackFeed.id)).all()
    if len(feeds) != 1:
        hint = "--feed" if feeds else "--provider"
        found = ", ".join(f.name for f in feeds) or "none"
        raise click.BadParameter(
            f"{account_name} needs exactly one {kind.title} feed here (found: {found}); "
            "add it on the feed settings page or name it with --feed",
            param_hint=hint,
        )
    feed = feeds[0]
    events = []
    for n, body in enumerate(deliveries(file.read_text(encoding="utf-8"), kind), start=1):
        now = now_utc()
        try:
            if kind is FeedProvider.ses:
                message = json.loads(body)
                if message.get("Type") != "Notification":
                    continue
            events += parse(kind, body, now, message_id=f"file:{file.name}:{n}")
        except (BadPayload, ValueError, AttributeError) as exc:
            raise click.ClickException(f"delivery {n} of {file.name}: {exc}") from None
    totals: dict[str, int] = {}
    new = 0
    for start in range(0, len(events), CHUNK):
        receipt = ingest(db.session, feed, events[start : start + CHUNK], now_utc())
        db.session.commit()  # a command, not a request: each chunk is kept as it is ingested
        new += receipt.new
        for key, value in receipt.outcomes.items():
            totals[key] = totals.get(key, 0) + value
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in totals.items() if v)
    click.echo(
        f"{len(events)} events read, {new} new, {len(events) - new} already stored"
        + (f": {summary}" if summary else "")
    )
