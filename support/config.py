"""Configuration from the environment; nothing secret is written in the code."""

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (development)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    """The settings a deployment controls through environment variables."""
    env = os.environ.get
    default_db = "sqlite:///" + str(Path(instance_path) / "consent_desk.sqlite")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(env("DATABASE_URL", default_db)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": int(env("MAX_UPLOAD_MB", "200")) * 1024 * 1024,
        # Where uploaded files go (import files until their run ends, evidence files for good):
        # `database` (default) or `directory:/absolute/path` mounted at that path on every host.
        "UPLOAD_STORAGE": env("UPLOAD_STORAGE", "database"),
        # Evidence files: at most this many per filing or answer, each at most this size.
        "EVIDENCE_MAX_FILES": int(env("EVIDENCE_MAX_FILES", "5")),
        # The contact list counts matches up to this many ("more than 10,000") unless a
        # later page needs more: counting every match of a million-address account is slow.
        "CONTACT_COUNT_CAP": int(env("CONTACT_COUNT_CAP", "10000")),
        # An approval of more addresses than this is applied by a background run (the agent's
        # click answers at once; the request reads "applying" until it is done).
        "APPLY_INLINE_MAX": int(env("APPLY_INLINE_MAX", "5000")),
        # A filing whose selection has more eligible addresses than this has them recorded by
        # a background run (the POST answers at once; the request reads "recording the
        # selection" and cannot be approved until it is done).
        "FREEZE_INLINE_MAX": int(env("FREEZE_INLINE_MAX", "5000")),
        "EVIDENCE_MAX_MB": float(env("EVIDENCE_MAX_MB", "10")),
        # Queue pages each web process keeps and reuses while the queue's version stays (0:
        # none kept; support/agent/queue_cache.py).
        "QUEUE_CACHE_PAGES": int(env("QUEUE_CACHE_PAGES", "256")),
        # Failed logins: at most LOGIN_MAX_FAILURES per email and LOGIN_MAX_FAILURES_PER_CLIENT
        # per client address within LOGIN_LOCK_MINUTES (a fraction is allowed: tests use
        # seconds). The counters live in RATELIMIT_STORAGE_URI: `memory://` counts per process;
        # with several web processes use Redis (`redis://host:6379/0`) so they share one count.
        "LOGIN_MAX_FAILURES": int(env("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_FAILURES_PER_CLIENT": int(env("LOGIN_MAX_FAILURES_PER_CLIENT", "20")),
        "LOGIN_LOCK_MINUTES": float(env("LOGIN_LOCK_MINUTES", "15")),
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        "SMTP_HOST": env("SMTP_HOST", ""),
        "SMTP_PORT": int(env("SMTP_PORT", "25")),
        "SMTP_USERNAME": env("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env("SMTP_PASSWORD", ""),
        "SMTP_TLS": env("SMTP_TLS", "none"),  # none | starttls | ssl
        "MAIL_FROM": env("MAIL_FROM", "Consent Desk <support@consent-desk.test>"),
        "PUBLIC_BASE_URL": env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # `flask scheduler`: how often a waiting scheduler retries the lock (and the active one
        # checks it still holds it); SCHEDULER_TICK_SECONDS is for tests only: every job runs
        # at that interval instead of its own.
        "SCHEDULER_LOCK_POLL_SECONDS": float(env("SCHEDULER_LOCK_POLL_SECONDS", "2")),
        "SCHEDULER_TICK_SECONDS": float(env("SCHEDULER_TICK_SECONDS", "0")) or None,
        # /readyz reports "not ready" past these (unsent mail: how many, how old).
        "READY_OUTBOX_MAX_BACKLOG": int(env("READY_OUTBOX_MAX_BACKLOG", "50000")),
        "READY_OUTBOX_MAX_AGE_MINUTES": float(env("READY_OUTBOX_MAX_AGE_MINUTES", "120")),
        # How many proxies in front of the app set X-Forwarded-* and X-Request-ID; 0: none.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        "LOG_FORMAT": env("LOG_FORMAT", "plain"),  # plain | json
        "LOG_LEVEL": env("LOG_LEVEL", "INFO"),
        "METRICS_TOKEN": env("METRICS_TOKEN", ""),  # unset: no /metrics endpoint (404)
        "SENTRY_DSN": env("SENTRY_DSN", ""),  # unset: nothing is sent anywhere
        "SENTRY_ENVIRONMENT": env("SENTRY_ENVIRONMENT", "production"),
        # SECRET_KEY_PREVIOUS: the key before a rotation, still accepted when verifying
        # sessions and recipient links (never for signing). See docs/operations.md.
        "SECRET_KEY_FALLBACKS": [k for k in [env("SECRET_KEY_PREVIOUS", "")] if k],
        # Webhook endpoints: public https hosts only unless these allow loopback (tests, local
        # development) or plain http; each try waits this long for an answer.
        "WEBHOOKS_ALLOW_LOOPBACK": env("WEBHOOKS_ALLOW_LOOPBACK", "0") == "1",
        "WEBHOOKS_ALLOW_HTTP": env("WEBHOOKS_ALLOW_HTTP", "0") == "1",
        "WEBHOOKS_TIMEOUT_SECONDS": float(env("WEBHOOKS_TIMEOUT_SECONDS", "10")),
    }


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver; accept the plain URLs people paste.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
