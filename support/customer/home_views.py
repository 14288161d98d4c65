"""Customer home: what needs the customer now, what support is doing, what ran lately."""

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from requests_queue.models import (
    ConsentRequest,
    ImportBatch,
    MassAction,
    RequestEventKind,
    RequestState,
)
from requests_queue.models.requests import OPEN_STATES
from requests_queue.now import now_utc
from requests_queue.requests.timeline import request_timelines
from requests_queue.requests.window import request_window

from ..extensions import db
from ..kept_facts import team_calendar
from .scoping import own_latest
from .views import bp

SHOWN = 10  # open requests listed; the requests page has the rest


def _open_requests(states) -> list[ConsentRequest]:
    """The account's requests in these states, oldest first, one more than is shown."""
    return db.session.scalars(
        sa.select(ConsentRequest)
        .where(
            ConsentRequest.account_id == current_user.account_id,
            ConsentRequest.state.in_(states),
        )
        .order_by(ConsentRequest.filed_at, ConsentRequest.id)
        .limit(SHOWN + 1)
    ).all()


@bp.route("/home")
def home():
    """Questions waiting for an answer, requests in progress with their expected dates,
    the latest imports and mass actions."""
    asked = _open_requests([RequestState.awaiting_customer])
    running = _open_requests([s for s in OPEN_STATES if s is not RequestState.awaiting_customer])
    timelines = request_timelines(db.session, [r.id for r in asked[:SHOWN]])
    calendar, now = team_calendar(), now_utc()
    waiting = []
    for req in asked[:SHOWN]:
        questions = [e for e in timelines[req.id] if e.kind is RequestEventKind.question]
        waiting.append((req, questions[-1] if questions else None))
    in_progress = [(r, request_window(calendar, r, now)) for r in running[:SHOWN]]
    return render_template(
        "customer/home.html",
        waiting=waiting,
        in_progress=in_progress,
        more_requests=len(asked) > SHOWN or len(running) > SHOWN,
        imports=own_latest(ImportBatch, 3),
        mass_actions=own_latest(MassAction, 3),
    )
