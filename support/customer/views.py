"""Customer portal: the contact list, a contact's addresses and history, add and edit."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from requests_queue.contacts import ContactData, create_contact, update_contact
from requests_queue.models import AddressMerge, Contact, EmailAddress, EmailField, Role, StatusEvent
from requests_queue.now import now_utc
from requests_queue.selection import contact_page_ids, contacts_listed, count_contacts

from ..auth.session import current_actor, require_roles
from ..edge import operation
from ..extensions import db
from ..paging import counted_page
from .forms import ContactForm
from .scoping import account_batches, account_tags, filter_args, filter_from_args, own_contact

bp = Blueprint("customer", __name__)
require_roles(bp, [Role.customer])


@bp.route("/contacts")
def contacts():
    """The account's contacts, filtered and paginated, newest first."""
    flt = filter_from_args()
    page = counted_page(
        lambda limit: db.session.scalar(count_contacts(flt, at_most=limit)),
        current_app.config["CONTACT_COUNT_CAP"],
    )
    ids = db.session.scalars(contact_page_ids(flt, page.size, page.offset)).all()
    rows = db.session.scalars(contacts_listed(ids)).all()
    return render_template(
        "customer/contacts.html",
        contacts=rows,
        total=page.total,
        more=page.more,
        page=page.number,
        pages=page.pages,
        flt=flt,
        args=filter_args(flt),
        tags=account_tags(),
        batches=account_batches(),
    )


@bp.route("/contacts/<id:contact_id>")
def contact(contact_id: int):
    """One contact: each address with its status and its full event history."""
    row = own_contact(contact_id)
    # Rows merged into these addresses when addresses became canonical: their history too.
    merges = db.session.scalars(
        sa.select(AddressMerge)
        .where(AddressMerge.survivor_id.in_([a.id for a in row.addresses]))
        .order_by(AddressMerge.id)
    ).all()
    address_ids = [a.id for a in row.addresses] + [m.merged_id for m in merges]
    events = db.session.scalars(
        sa.select(StatusEvent)
        .where(StatusEvent.address_id.in_(address_ids))
        .order_by(StatusEvent.id.desc())
        .options(selectinload(StatusEvent.actor_user))
    ).all()
    by_address = {a: [e for e in events if e.address_id == a] for a in address_ids}
    merged = {a.id: [m for m in merges if m.survivor_id == a.id] for a in row.addresses}
    return render_template("customer/contact.html", contact=row, events=by_address, merged=merged)


def _data_from(form: ContactForm) -> ContactData:
    return ContactData(
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        company=form.company.data or "",
        phone=form.phone.data or "",
        emails={f: getattr(form, f.value).data or "" for f in EmailField},
        tag_names=tuple((form.tags.data or "").split(",")),
        consent_recorded=form.consent_recorded.data,
    )


def _save(form: ContactForm, existing: Contact | None):
    """Validate in the domain; field errors go back next to their field."""
    with operation(form) as op:
        if existing is None:
            row = create_contact(
                db.session, current_user.account_id, _data_from(form), current_actor(), now_utc()
            )
        else:
            row = update_contact(db.session, existing, _data_from(form), current_actor(), now_utc())
    return row if op.done else None


@bp.route("/contacts/new", methods=["GET", "POST"])
def new_contact():
    """Add a contact by hand."""
    form = ContactForm()
    if form.validate_on_submit():
        row = _save(form, None)
        if row is not None:
            flash(f"Contact {row.full_name} added.", "success")
            return redirect(url_for(".contact", contact_id=row.id))
    return render_template("customer/contact_form.html", form=form, contact=None)


@bp.route("/contacts/<id:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(contact_id: int):
    """Edit a contact; a changed address starts non-marketable unless consent is recorded."""
    row = own_contact(contact_id)
    form = ContactForm(obj=row)
    if request.method == "GET":
        for field in EmailField:
            address = row.address_in(field)
            getattr(form, field.value).data = address.display if address else ""
        form.tags.data = ", ".join(t.name for t in row.tags)
    if form.validate_on_submit():
        saved = _save(form, row)
        if saved is not None:
            flash("Contact saved.", "success")
            return redirect(url_for(".contact", contact_id=row.id))
    return render_template("customer/contact_form.html", form=form, contact=row)


@bp.route("/addresses/<id:address_id>")
def address(address_id: int):
    """An address by id leads to its contact (404 outside the account)."""
    row = db.session.get(EmailAddress, address_id)
    if row is None or row.account_id != current_user.account_id or row.contact_id is None:
        abort(404)
    return redirect(url_for(".contact", contact_id=row.contact_id))


# These modules register their routes on bp (imported last: they import bp from here).
from . import (  # noqa: E402
    action_pages,  # noqa: F401
    campaign_views,  # noqa: F401
    home_views,  # noqa: F401
    import_views,  # noqa: F401
    mass_views,  # noqa: F401
    proof_views,  # noqa: F401
    request_views,  # noqa: F401
)
