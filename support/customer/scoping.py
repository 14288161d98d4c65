"""Everything a customer loads goes through here: another account's id is a 404."""

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from requests_queue.models import Contact, ImportBatch, MassAction, Tag
from requests_queue.selection import ContactFilter, describe
from requests_queue.statuses import EmailStatus

from ..extensions import db
from ..ids import query_id, query_text


def own(model, object_id: int):
    """The current account's object with this id, or 404."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.account_id != current_user.account_id:
        abort(404)
    return obj


def own_latest(model, limit: int) -> list:
    """The current account's newest `limit` rows of `model`, newest first."""
    return list(
        db.session.scalars(
            sa.select(model)
            .where(model.account_id == current_user.account_id)
            .order_by(model.id.desc())
            .limit(limit)
        )
    )


def own_contact(contact_id: int) -> Contact:
    """The current account's contact, or 404."""
    return own(Contact, contact_id)


def own_mass_action(batch_id: int) -> MassAction:
    """The current account's mass action, or 404."""
    return own(MassAction, batch_id)


def _id_arg(name: str, model) -> int | None:
    if not request.args.get(name):
        return None
    object_id = query_id(name)
    if object_id is None:
        abort(404)  # names no tag or batch at all, like one of another account
    own(model, object_id)  # a tag or batch of another account is a 404, not an empty list
    return object_id


def filter_from_args() -> ContactFilter:
    """The contact filter named by the query string (search, tag, batch, status)."""
    status = request.args.get("status", "")
    try:
        status_value = EmailStatus(status) if status else None
    except ValueError:
        abort(404)
    return ContactFilter(
        account_id=current_user.account_id,
        search=query_text("q", 100),
        tag_id=_id_arg("tag", Tag),
        import_batch_id=_id_arg("batch", ImportBatch),
        status=status_value,
    )


def filter_args(flt: ContactFilter) -> dict:
    """The query-string arguments that reproduce `flt`."""
    args = {
        "q": flt.search or None,
        "tag": flt.tag_id,
        "batch": flt.import_batch_id,
        "status": flt.status.value if flt.status else None,
    }
    return {k: v for k, v in args.items() if v is not None}


def selection_shown(flt: ContactFilter) -> dict:
    """What a page that acts on a selection shows of it: `args`, the query string that keeps
    it, and `selection`, the selection in words."""
    return {"args": filter_args(flt), "selection": describe(db.session, flt)}


def account_tags() -> list[Tag]:
    """The account's tags by name."""
    return list(
        db.session.scalars(
            sa.select(Tag).where(Tag.account_id == current_user.account_id).order_by(Tag.name)
        )
    )


def account_batches() -> list[ImportBatch]:
    """The account's import batches, newest first."""
    return list(
        db.session.scalars(
            sa.select(ImportBatch)
            .where(ImportBatch.account_id == current_user.account_id)
            .order_by(ImportBatch.id.desc())
        )
    )
