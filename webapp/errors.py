"""What a failed request shows: a refusal's message (a page in the site layout, or JSON under /api), and
for anything unforeseen the site's own error page, never Werkzeug's English one.

A domain or engine refusal (``domain.refusals.CodedError``) that escapes a view is worded by
``webapp.messages.explain`` and answered with the status `status_of` gives it; the JSON API uses
the same mapping.
"""

from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask_babel import gettext as _
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
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, fault)


def refusal(error: CodedError):
    """Explain a refusal that escaped its view, as JSON under /api, else as a page."""
    status = status_of(error)
    if _wants_json():
        return json_error(status, type(error).__name__, explain(error), error.code)
    return render_template("error.html", title=_("This could not be done"), message=explain(error)), status


def http_error(error: HTTPException):
    """Answer an HTTP error as JSON under /api, even one raised before a route matched (a bad id)."""
    if _wants_json() and error.code != 500:
        return json_error(error.code or 400, error.name.lower().replace(" ", "_"), error.description)
    return error


def fault(error):
    """Answer an unforeseen fault (Flask has logged its traceback) with the site's error page."""
    db.session.rollback()  # the failed request's transaction may be broken; the page must not reuse it
    message = _("Something went wrong on our side. It was recorded; please try again later.")
    if _wants_json():
        return json_error(500, "internal_server_error", message)
    try:
        return render_template("error.html", title=_("Server error"), message=message), 500
    except Exception:  # the layout itself failed (the database is down): a bare page still says it in words
        current_app.logger.exception("the error page could not be rendered")
        return f"<!doctype html><meta charset=utf-8><title>500</title><p>{message}</p>", 500


def _wants_json() -> bool:
    return request.path.startswith("/api/")
