"""The application factory: configuration, extensions, the engine's bootstrap, blueprints."""

import secrets
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask import current_app
from flask import session as browser_session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from domain.accounts.passwords import configure_hashing
from domain.files import file_store
from webapp import account
from webapp import api
from webapp import applications
from webapp import auth
from webapp import courses
from webapp import directory
from webapp import health
from webapp import holidays
from webapp import inbox
from webapp import inbox_bulk
from webapp import incidents
from webapp import my_courses
from webapp import notices
from webapp import oversight
from webapp import policy
from webapp import processes
from webapp import ranges
from webapp import registration
from webapp import results_api
from webapp import supervision
from webapp import tasks_page
from webapp import verify
from webapp import workplace
from webapp.config import MissingSecretKey
from webapp.config import load_config
from webapp.errors import install_error_pages
from webapp.extensions import FILE_STORE_KEY
from webapp.extensions import RUNTIME_KEY
from webapp.extensions import babel
from webapp.extensions import csrf
from webapp.extensions import db
from webapp.extensions import login_manager
from webapp.extensions import migrate
from webapp.ids import IdConverter
from webapp.rate_limits import install_rate_limits
from webapp.request_log import install_request_log
from webapp.sizes import file_size
from webapp.wiring import build_runtime

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Only the app's own files run or style a page: templates hold no inline script, style or handler.
# bpmn-js needs no 'unsafe-inline': its viewer styles the SVG through the CSSOM, which `style-src
# 'self'` allows (checked in Chromium, tests/web/test_csp_browser.py).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # bpmn-js's own logo is a data: image
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def select_locale() -> str:
    """Use the language the user chose, else Chinese."""
    supported = current_app.config["LANGUAGES"].split(",")
    chosen = browser_session.get("lang")
    return chosen if chosen in supported else current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(
    overrides: dict | None = None, *, fallback_secret_key: Callable[[str], str] | None = None
) -> Flask:
    """Build the web application (and its engine runtime) from configuration.

    Without a configured SECRET_KEY it refuses to start (MissingSecretKey), unless testing or
    debugging (a random key) or `fallback_secret_key(instance_path)` supplies one (the CLI's).
    """
    config = load_config(overrides)
    app = Flask(__name__, instance_relative_config=True, instance_path=config["INSTANCE_PATH"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _unconfigured_secret_key(app, config, fallback_secret_key)
    url = config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'ceflow.db'}"
    app.config.update(config, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url))
    app.config.update(  # no cross-site request carries the session; over HTTPS only when so configured
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config["SECURE_COOKIES"],
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config["SECURE_COOKIES"],
    )
    install_request_log(app)  # first: it times and logs even a request a later hook refuses
    app.after_request(_security_headers)
    if config["TRUSTED_PROXIES"]:  # behind nginx: the sign-in throttle must see the client's address
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=config["TRUSTED_PROXIES"], x_proto=config["TRUSTED_PROXIES"]
        )
    configure_hashing(
        config["PASSWORD_TIME_COST"], config["PASSWORD_MEMORY_KIB"], config["PASSWORD_PARALLELISM"]
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.add_template_filter(file_size)  # "12.3 kB" in the user's language, not Jinja's "12.3 kB"/"Bytes"
    login_manager.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        app.extensions[RUNTIME_KEY] = build_runtime(app.config, db.engine)
    app.extensions[FILE_STORE_KEY] = file_store(config["FILE_STORE"])
    app.url_map.converters["id"] = IdConverter  # every record id in a path: <id:task_id>
    install_error_pages(app)
    install_rate_limits(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(account.blueprint)
    app.register_blueprint(inbox.blueprint)
    app.register_blueprint(inbox_bulk.blueprint)
    app.register_blueprint(applications.blueprint)
    app.register_blueprint(api.api)
    app.register_blueprint(results_api.results_api)
    app.register_blueprint(tasks_page.blueprint)
    app.register_blueprint(processes.blueprint)
    app.register_blueprint(courses.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(supervision.blueprint)
    app.register_blueprint(directory.blueprint)
    app.register_blueprint(directory.api)
    app.register_blueprint(ranges.blueprint)
    app.register_blueprint(notices.blueprint)
    app.register_blueprint(policy.blueprint)
    app.register_blueprint(holidays.blueprint)
    app.register_blueprint(incidents.blueprint)
    app.register_blueprint(oversight.blueprint)
    app.before_request(workplace.seat_the_user)  # after the notices' count: the menu shows its badge
    app.register_blueprint(my_courses.blueprint)
    app.register_blueprint(verify.blueprint)
    auth.install_user_loader(login_manager)
    return app


def _unconfigured_secret_key(app: Flask, config: dict, fallback: Callable[[str], str] | None) -> str:
    if fallback is not None:
        return fallback(app.instance_path)
    if config["TESTING"] or app.debug:
        return secrets.token_hex(32)
    raise MissingSecretKey()


def _security_headers(response):
    """Send the security headers with every response: pages, the JSON API, static files, errors."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}
