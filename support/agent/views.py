"""Agent desk home (the queue arrives with the requests issue)."""

from flask import Blueprint, render_template

from requests_queue.models import Role

from ..auth.session import require_roles

bp = Blueprint("agent", __name__)
require_roles(bp, [Role.agent, Role.manager])


@bp.route("/")
def home():
    """The agent's start page."""
    return render_template("agent/home.html")
