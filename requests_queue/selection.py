"""Which contacts a customer is looking at: search, tag, import batch, status.

The contact list and the mass actions share this, so a mass action applies to exactly the
contacts the customer saw listed. Everything here builds SQL; nothing loads rows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, selectinload

from .mailbox import canonical_address
from .models import Contact, EmailAddress, EmailField, ImportBatch, Tag, contact_tags
from .statuses import EmailStatus


@dataclass(frozen=True)
class ContactFilter:
    """The customer's current view of their contacts (all parts optional)."""

    account_id: int
    search: str = ""
    tag_id: int | None = None
    import_batch_id: int | None = None
    status: EmailStatus | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing narrows the view: every contact of the account."""
        return not (self.search or self.tag_id or self.import_batch_id or self.status)


def filter_to_json(flt: ContactFilter) -> dict:
    """The filter as stored with work done later on its selection (`stored_selection`)."""
    return {
        "search": flt.search,
        "tag_id": flt.tag_id,
        "import_batch_id": flt.import_batch_id,
        "status": flt.status.value if flt.status else None,
    }


def stored_selection(
    account_id: int, data: dict | None, fields: str
) -> tuple[ContactFilter, tuple[EmailField, ...]]:
    """The filter and fields a campaign or mass action recorded (`filter_to_json`, and the
    fields as comma-separated values)."""
    f = data or {}
    flt = ContactFilter(
        account_id,
        search=f.get("search") or "",
        tag_id=f.get("tag_id"),
        import_batch_id=f.get("import_batch_id"),
        status=EmailStatus(f["status"]) if f.get("status") else None,
    )
    return flt, tuple(EmailField(v) for v in fields.split(","))


def _prefix(column: sa.ColumnElement, term: str) -> sa.ColumnElement:
    # A range instead of LIKE so both databases use the index whatever the collation.
    return sa.and_(column >= term, column < term + "\U0010ffff")


def search_condition(
    account_id: int, search: str, contact_id: sa.ColumnElement[int] = Contact.id
) -> sa.ColumnElement[bool]:
    """Contacts (`contact_id` of the enclosing query) whose first name, last name or any
    address starts with the search words."""
    words = search.strip().lower().split()
    if not words:
        return sa.true()
    conditions = []
    for word in words:
        # Addresses are stored canonical: a typed `name@Bücher.example` finds its punycode.
        key = canonical_address(word) if "@" in word else unicodedata.normalize("NFC", word)
        by_address = sa.select(EmailAddress.contact_id).where(
            EmailAddress.account_id == account_id, _prefix(EmailAddress.address, key)
        )
        by_first = sa.select(Contact.id).where(
            Contact.account_id == account_id, _prefix(Contact.first_name_key, word)
        )
        by_last = sa.select(Contact.id).where(
            Contact.account_id == account_id, _prefix(Contact.last_name_key, word)
        )
        conditions.append(contact_id.in_(sa.union(by_address, by_first, by_last)))
    return sa.and_(*conditions)


def contact_conditions(flt: ContactFilter) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses on `Contact` for the filter."""
    conds: list[sa.ColumnElement[bool]] = [Contact.account_id == flt.account_id]
    if flt.search.strip():
        conds.append(search_condition(flt.account_id, flt.search))
    if flt.tag_id is not None:
        conds.append(
            sa.exists().where(
                contact_tags.c.contact_id == Contact.id, contact_tags.c.tag_id == flt.tag_id
            )
        )
    if flt.import_batch_id is not None:
        conds.append(Contact.import_batch_id == flt.import_batch_id)
    if flt.status is not None:
        conds.append(
            sa.exists().where(
                EmailAddress.account_id == flt.account_id,
                EmailAddress.status == flt.status,
                EmailAddress.contact_id == Contact.id,
            )
        )
    return conds


def contact_ids(flt: ContactFilter) -> sa.Select:
    """SELECT of the ids of the contacts in the filter, driven from its most selective part.

    A status filter reads the address index, a tag the tag index, anything else the contacts;
    the remaining parts become an IN on contacts. The one column is labelled `contact_id`
    and the query is DISTINCT-free except for the status driver (a contact has ≤ 3 addresses).
    """
    if flt.status is not None:
        cid = EmailAddress.contact_id
        query = (
            sa.select(cid.label("contact_id"))
            .where(EmailAddress.account_id == flt.account_id, EmailAddress.status == flt.status)
            .distinct()
        )
        rest = replace(flt, status=None)
    elif flt.tag_id is not None:
        cid = contact_tags.c.contact_id
        query = sa.select(cid.label("contact_id")).where(contact_tags.c.tag_id == flt.tag_id)
        rest = replace(flt, tag_id=None)
    else:
        return sa.select(Contact.id.label("contact_id")).where(*contact_conditions(flt))
    if not rest.is_empty:
        query = query.where(cid.in_(contact_ids(rest)))
    return query


def contact_page_ids(flt: ContactFilter, limit: int, offset: int) -> sa.Select:
    """The ids of one page of the filter's contacts, newest first."""
    query = contact_ids(flt)
    column = query.selected_columns[0]
    return query.order_by(column.desc()).limit(limit).offset(offset)


def contacts_listed(ids: list[int]) -> sa.Select:
    """SELECT of the contacts with these ids, newest first, their addresses and tags loaded
    with them (a list shows both)."""
    return (
        sa.select(Contact)
        .where(Contact.id.in_(ids))
        .order_by(Contact.id.desc())
        .options(selectinload(Contact.addresses), selectinload(Contact.tags))
    )


def count_contacts(flt: ContactFilter, at_most: int | None = None) -> sa.Select:
    """SELECT count(*) of the filter's contacts, or of the first `at_most` of them: a
    bounded count stops early (an index range read in contact order) instead of reading
    every match of a large account."""
    ids = contact_ids(flt)
    if at_most is not None:
        ids = ids.limit(at_most)
    return sa.select(sa.func.count()).select_from(ids.subquery())


def address_conditions(flt: ContactFilter, fields: tuple[EmailField, ...]) -> list:
    """WHERE clauses on `EmailAddress` for the filter and fields.

    A status filter narrows the addresses too, not only the contacts: "Non-marketable" lists
    contacts with a non-marketable address, and a mass action on that view acts on exactly
    those addresses, never on the same contacts' addresses of other statuses.

    Each other part tests the address's own contact, side by side and never nested in another
    (issue 11 §4): PostgreSQL guesses one row for a new account beside a large one, and nested
    IN lists then ran as nested loops re-running each other, seconds to minutes for 200
    addresses. Side by side, a wrong guess costs at most one pass over each part.
    """
    cid = EmailAddress.contact_id
    conds = [EmailAddress.account_id == flt.account_id, EmailAddress.field.in_(fields)]
    if flt.status is not None:
        conds.append(EmailAddress.status == flt.status)
    if flt.search.strip():
        conds.append(search_condition(flt.account_id, flt.search, cid))
    if flt.tag_id is not None:
        tagged = contact_tags.c.contact_id == cid
        conds.append(sa.exists().where(tagged, contact_tags.c.tag_id == flt.tag_id))
    if flt.import_batch_id is not None:
        own = aliased(Contact)  # not the Contact a caller may join (preview_rows does)
        conds.append(sa.exists().where(own.id == cid, own.import_batch_id == flt.import_batch_id))
    return conds


def fields_in_use(session: Session, flt: ContactFilter) -> tuple[EmailField, ...]:
    """The email fields holding at least one of the selection's addresses, in field order."""
    used = set(
        session.scalars(
            sa.select(EmailAddress.field)
            .where(*address_conditions(flt, tuple(EmailField)))
            .distinct()
        )
    )
    return tuple(f for f in EmailField if f in used)


def describe(session: Session, flt: ContactFilter) -> str:
    """A readable description of the filter, e.g. 'tag Newsletter; status Single opt-in'."""
    parts = []
    if flt.search.strip():
        parts.append(f"search “{flt.search.strip()}”")
    if flt.tag_id is not None:
        tag = session.get(Tag, flt.tag_id)
        parts.append(f"tag {tag.name if tag else flt.tag_id}")
    if flt.import_batch_id is not None:
        batch = session.get(ImportBatch, flt.import_batch_id)
        parts.append(f"import {batch.label if batch else flt.import_batch_id}")
    if flt.status is not None:
        parts.append(f"status {flt.status.title}")
    return "; ".join(parts) or "all contacts"
