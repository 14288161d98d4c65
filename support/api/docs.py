"""The browsable API reference: Swagger UI from vendored files, started by a static script."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_reference", __name__)


@bp.route("/docs")
def reference():
    """Swagger UI over /api/v1/openapi.json (no login: the document describes, it holds no data)."""
    return render_template("api/docs.html")
