"""`flask import-contacts`: the same import as the portal's, from the shell."""

from pathlib import Path

import click
import sqlalchemy as sa

from requests_queue.blobs import put_file
from requests_queue.errors import ValidationError
from requests_queue.imports import (
    STALE_AFTER,
    FileRefused,
    inspect_file,
    resume_stale_imports,
    run_import,
    skipped_by_reason,
    start_import,
)
from requests_queue.models import Account, ImportBatch, ImportState, Role, User
from requests_queue.now import now_utc
from requests_queue.statuses import Actor, ActorKind

from .extensions import db
from .uploads import upload_store


def _importer(account: Account, email: str | None) -> User:
    """The customer recorded as having answered the permission question."""
    query = sa.select(User).where(User.account_id == account.id, User.role == Role.customer)
    if email:
        query = query.where(User.email == email.strip().lower())
    user = db.session.scalars(query.order_by(User.id)).first()
    if user is None:
        who = f"a customer {email}" if email else "a customer user"
        raise click.ClickException(f"account {account.name!r} has no {who}; create one first")
    return user


def print_summary(batch: ImportBatch) -> None:
    """The result as the batch page shows it."""
    click.echo(f"Import #{batch.id} {batch.filename}: {batch.state.title.lower()}")
    click.echo(f"  rows read            {batch.rows_read:>10,}")
    click.echo(f"  contacts created     {batch.created_count:>10,}")
    click.echo(f"  matched and updated  {batch.updated_count:>10,}")
    click.echo(f"  rows skipped         {batch.skipped_count:>10,}")
    for reason, n in skipped_by_reason(db.session, batch.id):
        click.echo(f"    {reason.title:<26} {n:>8,}")
    if batch.error:
        click.echo(f"  stopped: {batch.error}")


def explain_nothing_resumed(now) -> None:
    """Why --resume found nothing to do: each unfinished import and why it was left alone."""
    waiting = db.session.scalars(
        sa.select(ImportBatch)
        .where(ImportBatch.state.in_((ImportState.queued, ImportState.running)))
        .order_by(ImportBatch.id)
    ).all()
    if not waiting:
        click.echo("No import is queued or running, so there was nothing to resume.")
        return
    for batch in waiting:
        since = batch.heartbeat_at or batch.created_at
        age = int((now - since).total_seconds())
        wait = int(STALE_AFTER.total_seconds())
        if batch.state is ImportState.running:
            why = f"its last heartbeat was {age} s ago, so its run is alive"
        else:
            why = f"it was queued {age} s ago and its run may be starting"
        click.echo(
            f"Import #{batch.id} ({batch.filename}, {batch.percent}%) was left alone: {why}. "
            f"It is resumed once it has been silent for {wait} s."
        )


@click.command("import-contacts")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--account", "account_name", help="The customer's account.")
@click.option(
    "--permission",
    type=click.Choice(["yes", "no"]),
    help='"I have received prior permission to email these contacts": yes or no.',
)
@click.option("--tag", default="", help="Tag every contact in the file with this tag.")
@click.option("--user", "user_email", help="The customer answering (default: the first one).")
@click.option("--resume", is_flag=True, help="Resume imports whose run died, then exit.")
def import_contacts(file, account_name, permission, tag, user_email, resume) -> None:
    """Import contacts from a CSV or tab-separated FILE into an account, printing the summary."""
    if resume:
        done = resume_stale_imports(db.session, now_utc())
        click.echo(f"Resumed {len(done)} import(s).")
        for batch_id, _ in done:
            print_summary(db.session.get(ImportBatch, batch_id))
        if not done:
            explain_nothing_resumed(now_utc())
        return
    if not file or not account_name or not permission:
        raise click.UsageError("give FILE, --account and --permission (or --resume)")
    account = db.session.scalar(sa.select(Account).where(Account.name == account_name))
    if account is None:
        raise click.ClickException(f"no account named {account_name!r}")
    user = _importer(account, user_email)
    try:
        fmt = inspect_file(Path(file))
        now = now_utc()
        blob = put_file(upload_store(), db.session, Path(file), account_id=account.id, now=now)
        batch = start_import(
            db.session, account.id, Actor(ActorKind.customer, user.id), fmt, blob.id,
            Path(file).name, fmt.mapping, permission == "yes", tag, now_utc(),
        )  # fmt: skip
    except (FileRefused, ValidationError) as exc:
        db.session.rollback()  # a command, not a request: nothing of a refused import is kept
        raise click.ClickException(exc.reason) from None
    db.session.commit()  # a command, not a request: it commits its own work
    click.echo(f"Permission answered {permission!r} by {user.email}; mapping: " + ", ".join(
        f"{fmt.header[i]!r} → {t.title}" for i, t in sorted(fmt.mapping.items())
        if t.value != "ignore"
    ))  # fmt: skip
    run_import(db.engine, batch.id)
    db.session.expire_all()
    print_summary(db.session.get(ImportBatch, batch.id))
