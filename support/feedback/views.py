"""Customers' feed settings: list and add feeds, edit one, see what it received."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from requests_queue.errors import NotFound
from requests_queue.feedback.feeds import (
    FeedSettings,
    account_feeds,
    create_feed,
    own_feed,
    update_feed,
)
from requests_queue.models import Role
from requests_queue.models.feedback import FeedbackEvent, FeedProvider
from requests_queue.now import now_utc

from ..auth.session import require_roles
from ..edge import operation
from ..extensions import db
from . import feed_url, sealer
from .forms import FeedForm

bp = Blueprint("feedback", __name__)
require_roles(bp, [Role.customer])
RECENT = 50


def _settings(form: FeedForm) -> FeedSettings:
    return FeedSettings(
        name=form.name.data or "",
        is_enabled=bool(form.is_enabled.data),
        secret=(form.secret.data or "").strip(),
        username=form.username.data or "",
        topic_arn=form.topic_arn.data or "",
        soft_bounce_limit=form.soft_bounce_limit.data or 0,
        soft_bounce_window_hours=form.soft_bounce_window_hours.data or 0,
    )


@bp.route("/", methods=["GET", "POST"])
def feeds():
    """The account's feeds, and the form that adds one."""
    form = FeedForm()
    if form.validate_on_submit():
        with operation(form) as op:
            feed = create_feed(
                db.session,
                current_user.account_id,
                FeedProvider(form.provider.data),
                _settings(form),
                sealer(),
                now_utc(),
            )
        if op.done:
            flash(f"Feed “{feed.name}” added: give the provider its URL below.", "success")
            return redirect(url_for(".feed", feed_id=feed.id))
    status = 400 if form.is_submitted() else 200
    rows = account_feeds(db.session, current_user.account_id)
    return render_template("feedback/feeds.html", form=form, feeds=rows, feed_url=feed_url), status


@bp.route("/<id:feed_id>", methods=["GET", "POST"])
def feed(feed_id: int):
    """One feed: its URL, settings, refused deliveries and the latest events it carried."""
    try:
        row = own_feed(db.session, current_user.account_id, feed_id)
    except NotFound:
        abort(404)
    form = FeedForm(obj=row)
    del form.provider  # fixed once created
    if request.method == "POST" and form.validate_on_submit():
        with operation(form) as op:
            update_feed(db.session, row, _settings(form), sealer())
        if op.done:
            flash("Feed saved.", "success")
            return redirect(url_for(".feed", feed_id=row.id))
    form.secret.data = ""
    events = db.session.scalars(
        sa.select(FeedbackEvent)
        .where(FeedbackEvent.feed_id == row.id)
        .order_by(FeedbackEvent.id.desc())
        .limit(RECENT)
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(FeedbackEvent.outcome, sa.func.count())
            .where(FeedbackEvent.feed_id == row.id)
            .group_by(FeedbackEvent.outcome)
        ).all()
    )
    status = 400 if form.is_submitted() else 200
    return render_template(
        "feedback/feed.html",
        feed=row,
        form=form,
        events=events,
        counts=counts,
        url=feed_url(row.public_id),
    ), status
