"""Command-line tasks: `flask seed-demo`, `flask create-user`."""

import click
import sqlalchemy as sa
from flask import Flask

from requests_queue.models import Account, Role, User

from .auth.passwords import MIN_LENGTH, hash_password
from .cli_feedback import ingest_feedback
from .cli_imports import import_contacts
from .cli_mail import send_outbox
from .extensions import db
from .scheduler import scheduler_command


def register_commands(app: Flask) -> None:
    """Attach the commands to `flask`."""
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(create_token_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(send_outbox)
    app.cli.add_command(import_contacts)
    app.cli.add_command(ingest_feedback)


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo accounts, users, contacts, requests and shared saved replies (once;
    running it again changes nothing)."""
    from .demo import DEMO_PASSWORD, DEMO_USERS, seed

    created = seed(db.session)
    db.session.commit()  # a command, not a request: it commits its own work
    click.echo("Demo data created." if created else "Demo data already present; nothing changed.")
    click.echo(f"Demo-only logins (password {DEMO_PASSWORD!r}):")
    for email, role, account in DEMO_USERS:
        click.echo(f"  {email:22} {role.value:9} {account or ''}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--account", "account_name", help="Customer's account (created if new).")
@click.password_option(help="Asked for when not given; there is no default.")
def create_user(email: str, role: str, account_name: str | None, password: str) -> None:
    """Create a user; customers need --account, support staff must not have one."""
    email = email.strip().lower()
    role_value = Role(role)
    if len(password) < MIN_LENGTH:
        raise click.BadParameter(f"use at least {MIN_LENGTH} characters", param_hint="password")
    if role_value is Role.customer and not account_name:
        raise click.BadParameter("a customer belongs to an account", param_hint="--account")
    if role_value is not Role.customer and account_name:
        raise click.BadParameter("agents and managers belong to no account", param_hint="--account")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise click.ClickException(f"a user {email} exists already")
    account = None
    if account_name:
        account = db.session.scalar(sa.select(Account).where(Account.name == account_name))
        if account is None:
            account = Account(name=account_name)
            db.session.add(account)
    db.session.add(
        User(email=email, role=role_value, account=account, password_hash=hash_password(password))
    )
    db.session.commit()  # a command, not a request: it commits its own work
    click.echo(f"Created {role_value.value} {email}" + (f" in {account_name}" if account else ""))


@click.command("create-token")
@click.argument("email")
@click.option("--name", required=True, help="What will use it (shown in the user's token list).")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
def create_token_command(email: str, name: str, scope: str) -> None:
    """Mint a personal API token for a user; the token is the last line printed (shown once)."""
    from requests_queue.api_tokens import create_token
    from requests_queue.errors import ValidationError
    from requests_queue.now import now_utc

    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    try:
        new = create_token(db.session, user, name, scope, now_utc())
    except ValidationError as exc:
        raise click.ClickException(exc.reason) from None
    db.session.commit()  # a command, not a request: it commits its own work
    click.echo(f"Created {scope} token {new.token.name!r} for {user.email}; it is not shown again:")
    click.echo(new.secret)
