"""Consent Desk's web application: `create_app()` builds it from a short list of steps."""

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides the environment (tests pass their own)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_config(app, config)
    register_extensions(app)
    register_logs(app)
    register_proxy(app)
    register_blueprints(app)
    register_api(app)
    register_errors(app)
    register_error_reports(app)
    register_health(app)
    register_metrics(app)
    register_security(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def register_config(app: Flask, config: dict | None) -> None:
    """Environment settings first, then the caller's overrides."""
    from .config import from_environment

    app.config.from_mapping(from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)


def register_extensions(app: Flask) -> None:
    """Database, migrations, CSRF, login and its failed-attempt limiter."""
    from .auth.session import register_login
    from .auth.throttle import register_throttle
    from .database import register_database
    from .extensions import csrf, db, migrate

    register_database(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    register_login(app)
    register_throttle(app)


def register_logs(app: Flask) -> None:
    """Log lines (LOG_FORMAT plain or json) naming their request, user, account or run."""
    from .logs import register_logging

    register_logging(app)


def register_proxy(app: Flask) -> None:
    """Client address and scheme from a trusted reverse proxy (TRUSTED_PROXIES hops)."""
    from .proxy import register_proxy_fix

    register_proxy_fix(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience."""
    from .agent.views import bp as agent_bp
    from .auth.views import bp as auth_bp
    from .customer.views import bp as customer_bp
    from .feedback import register_feedback
    from .ids import register_id_converter
    from .manager.views import bp as manager_bp
    from .recipient.views import bp as recipient_bp
    from .webhooks.views import bp as webhooks_bp

    register_id_converter(app)  # `<id:...>` in routes: needed before they are added
    app.register_blueprint(auth_bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(agent_bp, url_prefix="/desk")
    app.register_blueprint(manager_bp, url_prefix="/manager")
    app.register_blueprint(recipient_bp, url_prefix="/r")  # signed links, no login
    app.register_blueprint(webhooks_bp)  # issue 13: webhook endpoints (/account/webhooks)
    register_feedback(app)  # issue 13: feed settings (customers) and the providers' endpoints


def register_api(app: Flask) -> None:
    """The JSON API under /api/v1 (bearer tokens only) and its OpenAPI document."""
    from .api import register_api as register

    register(app)


def register_errors(app: Flask) -> None:
    """Readable error pages."""
    from .errors import register_error_pages

    register_error_pages(app)


def register_error_reports(app: Flask) -> None:
    """Unexpected errors to Sentry when SENTRY_DSN is set (no personal data)."""
    from .error_reports import register_error_reports as register

    register(app)


def register_health(app: Flask) -> None:
    """`/healthz` and `/readyz` for load balancers and supervisors (no login)."""
    from .health import register_health as register

    register(app)


def register_metrics(app: Flask) -> None:
    """Request latency and operational figures for Prometheus at `/metrics` (METRICS_TOKEN)."""
    from .metrics import register_metrics as register

    register(app)


def register_security(app: Flask) -> None:
    """Security headers (CSP, framing, sniffing, referrer, HSTS) on every response."""
    from .security import register_security_headers

    register_security_headers(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share."""
    from .templating import register_templating

    register_templating(app)


def register_cli(app: Flask) -> None:
    """`flask seed-demo`, `flask create-user` and friends."""
    from .cli import register_commands

    register_commands(app)
