"""The JSON API under /api/v1, documented by an OpenAPI 3.1 document generated from its schemas.

flask-smorest (README: API) generates the document from the marshmallow schemas the views
load and dump with, so the document cannot drift from the code. Every view calls the same
domain operations as the web pages; `auth.protect` authenticates each call from its bearer
token alone, and `problems` turns every refusal into RFC 9457 problem details.
"""

from __future__ import annotations

import os
from http import HTTPStatus

from flask import Flask
from flask_smorest import Api

from ..extensions import csrf
from ..ids import MAX_ID, IdConverter
from .problems import PROBLEM_TYPE, register_routing_problems
from .schemas import ProblemSchema

PREFIX = "/api/v1"


class ConsentApi(Api):
    """flask-smorest's Api, with problem+json errors for the API's blueprints only."""

    def _register_error_handlers(self):
        # flask-smorest would answer every HTTP error of the whole app (the HTML pages too)
        # with its JSON; the API's blueprints register their own problem handlers instead.
        pass

    def _register_responses(self):
        # Every error response the document names (422 from the argument parser, `default`
        # everywhere) is a problem+json body.
        self.spec.components.schema("Problem", schema=ProblemSchema)
        content = {PROBLEM_TYPE: {"schema": "Problem"}}
        for status in HTTPStatus:
            if status >= 400:
                self.spec.components.response(
                    status.name, {"description": status.phrase, "content": content}, lazy=True
                )
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "An RFC 9457 problem: the status, a sentence, and field errors.",
                "content": content,
            },
        )


def _settings(app: Flask) -> None:
    env = os.environ.get
    app.config.setdefault("API_RATE_LIMIT", env("API_RATE_LIMIT", "600/minute"))
    app.config.update(
        API_TITLE="Consent Desk API",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Consent statuses, contacts, imports, mass opt-outs and "
                "requests of one account (customers), and the request queue (support). "
                "Authenticate with a personal token: `Authorization: Bearer <token>`."
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )


def register_api(app: Flask) -> None:
    """Mount the API's blueprints, its OpenAPI document and its browsable page."""
    from . import (
        addresses,
        agent,
        contacts,
        docs,
        imports,
        mass_actions,
        proof,
        request_files,
        requests,
    )

    _settings(app)
    api = ConsentApi(app)
    id_schema = {"type": "integer", "format": "int32", "minimum": 1, "maximum": MAX_ID}
    api.register_converter(IdConverter, lambda converter: id_schema)
    blueprints = (addresses, proof, contacts, imports, mass_actions, requests, request_files, agent)
    for module in blueprints:
        # Token calls carry no CSRF token: no browser attaches a bearer token by itself.
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp, url_prefix=PREFIX)
    app.register_blueprint(docs.bp, url_prefix=PREFIX)
    register_routing_problems(app)
