"""Agent desk: saved replies. Everyone keeps personal ones; managers curate the shared ones."""

from flask import abort, flash, redirect, render_template, url_for

from requests_queue.errors import NotFound
from requests_queue.models import ReplyPurpose
from requests_queue.now import now_utc
from requests_queue.requests.saved_replies import (
    PLACEHOLDERS,
    ReplyInput,
    can_edit,
    create_reply,
    delete_reply,
    get_reply,
    update_reply,
    visible_replies,
)
from requests_queue.statuses import ActorKind

from ..auth.session import current_actor
from ..edge import operation
from ..extensions import db
from .forms import DeleteReplyForm, ReplyForm
from .views import bp


def _input(form: ReplyForm, shared: bool) -> ReplyInput:
    purpose = ReplyPurpose(form.purpose.data) if form.purpose.data else None
    return ReplyInput(form.title.data, form.body.data, purpose, shared)


def _is_manager() -> bool:
    return current_actor().kind is ActorKind.manager


def _page(form: ReplyForm, status: int = 200):
    actor = current_actor()
    replies = visible_replies(db.session, actor)
    return render_template(
        "agent/replies.html",
        form=form,
        shared=[r for r in replies if r.is_shared],
        mine=[r for r in replies if not r.is_shared],
        editable={r.id for r in replies if can_edit(r, actor)},
        delete_form=DeleteReplyForm(formdata=None),
        placeholders=PLACEHOLDERS,
        is_manager=_is_manager(),
    ), status


@bp.route("/replies", methods=["GET", "POST"])
def replies():
    """Saved replies: the shared ones, the user's own, and a form to add one."""
    form = ReplyForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, 400)
    shared = bool(form.shared.data) and _is_manager()
    if form.shared.data and not shared:
        abort(403)  # the page offers agents no such box
    with operation(form) as op:
        reply = create_reply(db.session, _input(form, shared), current_actor(), now_utc())
    if not op.done:
        return _page(form, 400)
    flash(f"Saved “{reply.title}”.", "success")
    return redirect(url_for(".replies"))


def _load_reply(reply_id: int):
    try:
        return get_reply(db.session, reply_id, current_actor())
    except NotFound:
        abort(404)


@bp.route("/replies/<id:reply_id>", methods=["GET", "POST"])
def edit_reply(reply_id: int):
    """Change a saved reply (managers only, for a shared one)."""
    reply = _load_reply(reply_id)
    if not can_edit(reply, current_actor()):
        abort(403)
    form = ReplyForm(obj=reply)
    if form.is_submitted() and form.validate():
        with operation(form) as op:
            update_reply(
                db.session, reply, _input(form, reply.is_shared), current_actor(), now_utc()
            )
        if op.done:
            flash(f"Saved “{reply.title}”.", "success")
            return redirect(url_for(".replies"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "agent/reply_edit.html",
        reply=reply,
        form=form,
        delete_form=DeleteReplyForm(formdata=None),
        placeholders=PLACEHOLDERS,
    ), status


@bp.route("/replies/<id:reply_id>/delete", methods=["POST"])
def remove_reply(reply_id: int):
    """Delete a saved reply."""
    reply = _load_reply(reply_id)
    if not DeleteReplyForm().validate():
        abort(400)
    title = reply.title
    with operation() as op:
        delete_reply(db.session, reply, current_actor())
    if op.done:
        flash(f"Deleted “{title}”.", "success")
    return redirect(url_for(".replies"))
