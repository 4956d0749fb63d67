"""What a failed request shows: a refusal's message (a page in the site layout, or JSON under /api), and
for anything unforeseen the site's own error page, never Werkzeug's English one.

Every HTTP error a page can meet (400, 403, 404, 405, 413, 429, 500) is a page in the site layout, in
the user's language, with the menu and a way back. A form sent with an expired or missing CSRF token
(after a restart without a kept key, or a session that timed out) is shown again, filled in, with a
message, when its view says it can be (`redisplays_expired_form`); any other such request goes back
to the page it came from.

A domain or engine refusal (``domain.refusals.CodedError``) that escapes a view is worded by
``webapp.messages.explain`` and answered with the status `status_of` gives it; the JSON API uses
the same mapping.
"""

from urllib.parse import urlsplit

from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from domain.refusals import CodedError
from engine.errors import AlreadyUrgedToday
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import StepFailed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskNotFound
from webapp.extensions import db
from webapp.messages import explain
from webapp.sizes import file_size

# the first kind an error is wins; any other refusal is about its input: 422
STATUS = (
    (TaskNotFound, 404),
    (TaskAlreadyHandled, 409),
    (NotAllowed, 403),
    (AlreadyUrgedToday, 429),
    (InvalidCommand, 422),
    (StepFailed, 500),  # not a refusal: the step broke, an incident was recorded for the administrator
)
# refusals that are about the input or the process's state rather than the actor: 422, not 403
UNPROCESSABLE = frozenset({"process_ended", "no_earlier_step"})


# what each HTTP error page says: its title and what the user can do about it
HTTP_PAGES = {
    400: (
        _l("The request could not be read"),
        _l("The page sent something the server could not read. Go back and try again."),
    ),
    403: (
        _l("You may not open this page"),
        _l("This page is outside your role or jurisdiction. If you should see it, ask your administrator."),
    ),
    404: (
        _l("Page not found"),
        _l("The page does not exist, or what it showed has been removed. Check the address or go back."),
    ),
    405: (
        _l("This action is not available here"),
        _l("The page cannot be used this way. Go back and use the page's own buttons."),
    ),
    429: (
        _l("Too many requests"),
        _l("Too many requests came in a short time. Wait a minute and try again."),
    ),
}
OTHER_HTTP_PAGE = (_l("The request could not be completed"), _l("Go back and try again."))
EXPIRED_FORM = _l("The page has expired; please submit it again.")


def redisplays_expired_form(view):
    """Mark a page view that shows its form again, filled in, when the form fails validation.

    Only such a view may be called with a request whose CSRF token failed: its FlaskForm fails the
    same check, so nothing is done, and the user sees what they typed with a fresh token.
    """
    view.redisplays_expired_form = True
    return view


def status_of(error: CodedError) -> int:
    """Return the HTTP status that answers a domain or engine refusal."""
    if error.code in UNPROCESSABLE:
        return 422
    return next((status for kind, status in STATUS if isinstance(error, kind)), 422)


def json_error(status: int, code: str, message: str, reason: str | None = None):
    """Answer with the API's JSON error: `error` names it, `message` words it, `reason` is its code."""
    if reason is None:
        return jsonify(error=code, message=message), status
    return jsonify(error=code, message=message, reason=reason), status


def install_error_pages(app) -> None:
    """Answer escaped refusals with their message and any other fault with the site's error page."""
    app.register_error_handler(CodedError, refusal)
    app.register_error_handler(CSRFError, expired_form)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, fault)


def refusal(error: CodedError):
    """Explain a refusal that escaped its view, as JSON under /api, else as a page."""
    status = status_of(error)
    if _wants_json():
        return json_error(status, type(error).__name__, explain(error), error.code)
    return error_page(_("This could not be done"), explain(error), status)


def http_error(error: HTTPException):
    """Answer an HTTP error as JSON under /api (even before a route matched), else as a page in the layout."""
    if error.code is None or error.code < 400:  # a routing redirect (a missing trailing slash) goes on
        return error
    if _wants_json() and error.code != 500:
        return json_error(error.code, error.name.lower().replace(" ", "_"), error.description)
    if error.code == 413:
        limit = file_size(current_app.config["MAX_CONTENT_LENGTH"])
        title, message = _("The upload is too large"), _("Send at most %(limit)s at a time.", limit=limit)
    else:
        title, message = HTTP_PAGES.get(error.code, OTHER_HTTP_PAGE)
    response = error_page(str(title), str(message), error.code)
    response.headers.update({k: v for k, v in error.get_headers() if k == "Allow"})  # 405 names what works
    return response


def expired_form(error: CSRFError):
    """Show an expired form again (filled in) with a message, or go back to the page it was sent from."""
    if _wants_json():
        return json_error(400, "csrf", str(EXPIRED_FORM))
    flash(str(EXPIRED_FORM), "error")
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "redisplays_expired_form", False):
        try:
            response = current_app.make_response(view(**(request.view_args or {})))
        except HTTPException as refused:  # the page is not this user's (403, 404): say that instead
            return http_error(refused)
        if response.status_code == 200:  # the form again, but the request itself was refused
            response.status_code = 400
        return response
    return redirect(_same_site_referrer() or url_for("inbox.home"), 303)


def error_page(title: str, message: str, status: int):
    """Render the site's error page; if the layout itself fails (the database is down), a bare one."""
    try:
        page = render_template("error.html", title=title, message=message)
        return current_app.make_response((page, status))
    except Exception:  # noqa: BLE001 - the page that reports a fault must not raise one
        current_app.logger.exception("the error page could not be rendered")
        page = f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{message}</p>"
        return current_app.make_response((page, status))


def fault(error):
    """Answer an unforeseen fault (Flask has logged its traceback) with the site's error page."""
    db.session.rollback()  # the failed request's transaction may be broken; the page must not reuse it
    message = _("Something went wrong on our side. It was recorded; please try again later.")
    if _wants_json():
        return json_error(500, "internal_server_error", message)
    return error_page(_("Server error"), message, 500)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _same_site_referrer() -> str | None:
    """Return the page the request came from when it is on this site, else None."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")
