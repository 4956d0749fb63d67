"""Rate limits on the pages a stranger may reach, counted where every web node counts (Redis in production).

Sign-in guessing is throttled per account and address by rows in the database (domain.accounts); this
is the other guard: how often one address may load or submit the public pages at all (sign-in,
self-registration, the API document), so a script cannot flood them. Flask-Limiter keeps the counts
in RATELIMIT_STORAGE_URI: `memory://` serves one process (`make run`); several workers or machines
must name one shared store, e.g. `redis://127.0.0.1:6379/0`, or each counts alone.
"""

from flask import Flask
from flask import current_app
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter import RateLimitExceeded
from flask_login import current_user

from webapp.errors import json_error


def _client_address() -> str:
    return request.remote_addr or "unknown"  # ProxyFix (TRUSTED_PROXIES) puts the client's address here


limiter = Limiter(key_func=_client_address, headers_enabled=True)


def _signed_in() -> bool:
    return current_user.is_authenticated  # staff at work are not strangers: HR registers persons all day


public_page = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_PUBLIC"], scope="public", exempt_when=_signed_in
)
public_submission = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_SUBMISSIONS"],
    scope="public-submission",
    exempt_when=lambda: _signed_in() or request.method != "POST",
)


def install_rate_limits(app: Flask) -> None:
    """Count public requests in the configured store and answer a breach with a page that says so."""
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def too_many_requests(error: RateLimitExceeded):
    message = _("Too many requests from your network. Please wait a moment and try again.")
    if request.path.startswith("/api/"):
        return json_error(429, "too_many_requests", message)
    return render_template("error.html", title=_("Too many requests"), message=message), 429
