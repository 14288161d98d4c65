"""Adding and editing contacts by hand, and the address rules they share with imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import ValidationError
from .mailbox import check_address, typed_form
from .models import Contact, EmailAddress, EmailField, Tag
from .status_changes import add_address, lock_account
from .statuses import Actor, Cause, status_for_permission


@dataclass
class ContactData:
    """What a person types into the contact form."""

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    emails: dict[EmailField, str] | None = None
    tag_names: tuple[str, ...] = ()
    consent_recorded: bool = False  # the recipient gave permission to this customer


def _apply_names(contact: Contact, data: ContactData) -> None:
    contact.first_name = data.first_name.strip()
    contact.last_name = data.last_name.strip()
    contact.first_name_key = contact.first_name.lower()
    contact.last_name_key = contact.last_name.lower()
    contact.company = data.company.strip()
    contact.phone = data.phone.strip()


def get_or_create_tags(session: Session, account_id: int, names: tuple[str, ...]) -> list[Tag]:
    """The account's tags with these names, created when missing."""
    tags = []
    # Cut to the column's length before looking up, so a long name finds the tag it made.
    width = Tag.__table__.c.name.type.length
    for name in dict.fromkeys(n.strip()[:width] for n in names if n.strip()):
        tag = session.scalar(sa.select(Tag).where(Tag.account_id == account_id, Tag.name == name))
        if tag is None:
            tag = Tag(account_id=account_id, name=name)
            session.add(tag)
        tags.append(tag)
    return tags


def _set_addresses(
    session: Session, contact: Contact, data: ContactData, actor: Actor, now: datetime
) -> None:
    typed = {f: v for f, v in (data.emails or {}).items() if v.strip()}
    # Matched and compared in the canonical form: one mailbox is one address, however spelled.
    wanted = {f: check_address(v, f.value) for f, v in typed.items()}
    if len(set(wanted.values())) < len(wanted):
        raise ValidationError("email", "the same address is entered twice")
    current = {a.field: a for a in contact.addresses}
    # First detach every address leaving its field (keeping its status and history), then
    # attach: an address moving between this contact's own fields is found detached and
    # re-attached, not taken for another contact's.
    changed = [f for f in EmailField if f in current and current[f].address != wanted.get(f)]
    for field in changed:
        old = current[field]
        old.contact_id = None
        old.field = None
        contact.addresses.remove(old)
    if changed:
        session.flush()
    for field, new in wanted.items():
        if field in current and field not in changed:
            current[field].typed_address = typed_form(typed[field], new)  # a new spelling only
            continue
        existing = session.scalar(
            sa.select(EmailAddress).where(
                EmailAddress.account_id == contact.account_id, EmailAddress.address == new
            )
        )
        if existing is not None and existing.contact_id is not None:
            raise ValidationError(field.value, "this address already belongs to another contact")
        if existing is not None:  # re-added: it keeps the status it has
            existing.field = field
            existing.typed_address = typed_form(typed[field], new)
            contact.addresses.append(existing)
            continue
        status = status_for_permission(data.consent_recorded)
        row = add_address(
            session,
            contact,
            field,
            new,
            status,
            actor,
            now,
            Cause(consent_recorded=data.consent_recorded),
        )
        row.typed_address = typed_form(typed[field], new)


def create_contact(
    session: Session, account_id: int, data: ContactData, actor: Actor, now: datetime
) -> Contact:
    """Add a contact by hand; new addresses start non-marketable unless consent is recorded."""
    lock_account(session, account_id)
    contact = Contact(account_id=account_id, created_at=now)
    _apply_names(contact, data)
    contact.tags = get_or_create_tags(session, account_id, data.tag_names)
    session.add(contact)
    session.flush()
    _set_addresses(session, contact, data, actor, now)
    return contact


def update_contact(
    session: Session, contact: Contact, data: ContactData, actor: Actor, now: datetime
) -> Contact:
    """Edit a contact; a changed address is a new address and starts non-marketable."""
    lock_account(session, contact.account_id)
    _apply_names(contact, data)
    contact.tags = get_or_create_tags(session, contact.account_id, data.tag_names)
    _set_addresses(session, contact, data, actor, now)
    session.flush()
    return contact
