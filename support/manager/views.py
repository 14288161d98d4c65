"""Manager home (the SLA dashboard arrives with the SLA issue)."""

from flask import Blueprint, render_template

from requests_queue.models import Role

from ..auth.session import require_roles

bp = Blueprint("manager", __name__)
require_roles(bp, [Role.manager])


@bp.route("/")
def home():
    """The manager's start page."""
    return render_template("manager/home.html")
