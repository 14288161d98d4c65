"""Behind a reverse proxy: believe its X-Forwarded-For and -Proto, and only as far as told.

TRUSTED_PROXIES is how many proxies stand in front of the app (nginx alone: 1; a load
balancer and nginx: 2). With 0, the default, the headers are ignored: anyone could send them.
The client address then comes out right in logs, in the login limits and in the recipient's
consent record, and url_for builds https links when the proxy says the visitor used https.
X-Forwarded-Host is never believed: links in emails come from PUBLIC_BASE_URL anyway.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def register_proxy_fix(app: Flask) -> None:
    """Wrap the WSGI app in ProxyFix when TRUSTED_PROXIES is more than 0."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0)
