"""Provider feedback (issue 13): the customer's feed settings and the providers' endpoints."""

from flask import Flask, current_app

from requests_queue.feedback.sealing import Sealer
from requests_queue.feedback.sns import CertFetcher, fetcher_from


def register_feedback(app: Flask) -> None:
    """The settings pages (customers) and the feed endpoints (providers: no login, no CSRF)."""
    from .receiver import bp as receiver_bp
    from .views import bp as settings_bp

    app.register_blueprint(settings_bp, url_prefix="/settings/feedback")
    app.register_blueprint(receiver_bp, url_prefix="/feedback")


def sealer() -> Sealer:
    """Feed credentials are sealed with SECRET_KEY and opened with it or the previous one."""
    config = current_app.config
    return Sealer([config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", [])])


def certificate_fetcher() -> CertFetcher:
    """SNS_CERTIFICATE_FETCHER (a callable) or SNS_CERTIFICATES (URL → PEM, for tests), else
    https from the SNS host itself."""
    config = current_app.config
    return fetcher_from(config.get("SNS_CERTIFICATES"), config.get("SNS_CERTIFICATE_FETCHER"))


def feed_url(public_id: str) -> str:
    """The address the provider posts to: PUBLIC_BASE_URL and the feed's unguessable id."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/feedback/{public_id}"
