"""The inbox as JSON: the same lists, filters, cursors and actions as the pages, under /api/inbox."""

from dataclasses import asdict
from dataclasses import is_dataclass
from datetime import date

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from engine import inbox
from engine import inbox_models
from engine.errors import EngineError
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import StepFailed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskNotFound
from engine.runtime import unit_of_work
from forms.catalog import form_catalog
from webapp.extensions import csrf
from webapp.extensions import db
from webapp.inbox import BULK_ACTIONS
from webapp.inbox import MAX_BULK
from webapp.inbox import act
from webapp.inbox import describe
from webapp.inbox import now
from webapp.inbox import run_bulk
from webapp.inbox import runtime

api = Blueprint("inbox_api", __name__, url_prefix="/api")
ACTIONS = {
    "claim": "claim",
    "unclaim": "unclaim",
    "complete": "approve",
    "return": "return",
    "reject": "reject",
}
_STATUS = ((TaskNotFound, 404), (TaskAlreadyHandled, 409), (NotAllowed, 403), (InvalidCommand, 422))
PUBLIC = ("inbox_api.openapi",)


@api.record_once
def check_csrf_here(state) -> None:
    """Check the CSRF token in `signed_in_only`, after the sign-in check, so a stranger gets a 401."""
    csrf.exempt(api)


@api.before_request
def signed_in_only():
    """Answer a request without a session with a JSON 401; then require the CSRF header on writes."""
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return _error(401, "unauthorized", _("Sign in first."))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # the X-CSRFToken header (or a csrf_token field); CSRFError otherwise
    return None


@api.errorhandler(CSRFError)
def csrf_refused(error):
    return _error(400, "csrf", _("The CSRF token is missing or invalid: send it in the X-CSRFToken header."))


@api.errorhandler(HTTPException)
def http_error(error):
    return _error(error.code or 500, error.name.lower().replace(" ", "_"), error.description)


@api.errorhandler(inbox_models.BadQuery)
def bad_query(error):
    return _error(400, "bad_request", str(error))


@api.errorhandler(EngineError)
def refused(error):
    status = next((code for kind, code in _STATUS if isinstance(error, kind)), 422)
    if isinstance(error, StepFailed):
        status = 500
    return _error(status, type(error).__name__, describe(error))


@api.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@api.route("/inbox/csrf")
def csrf_token():
    return jsonify(csrf_token=generate_csrf())


@api.route("/inbox/tasks")
def tasks():
    limit = request.args.get("limit", 20, type=int)
    if not 1 <= limit <= inbox.MAX_LIMIT:
        abort(400)
    query = inbox_models.parse_query(request.args)
    page = inbox.list_tasks(db.session, current_user.actor, query, now(), request.args.get("cursor"), limit)
    return jsonify(view=query.view, items=[_item(i) for i in page.items], next_cursor=page.next_cursor)


@api.route("/inbox/counts")
def counts():
    return jsonify(counts=inbox.inbox_counts(db.session, current_user.actor), cap=inbox.CAP)


@api.route("/inbox/tasks/<int:task_id>")
def task(task_id: int):
    detail = inbox.task_detail(runtime(), db.session, current_user.actor, task_id)
    found = _json(detail)
    found["item"]["due_status"] = inbox.due_status(detail.item.due_at, now())
    return jsonify(found)


@api.route("/inbox/tasks/<int:task_id>/<action>", methods=["POST"])
def task_action(task_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    body = _body()
    opinion = str(body.get("opinion") or "").strip()
    data = _form_data(task_id, body.get("data") or {}) if action == "complete" else None
    act(current_user.actor, ACTIONS[action], task_id, opinion, data)
    return jsonify(ok=True, task_id=task_id, action=action)


@api.route("/inbox/bulk", methods=["POST"])
def bulk():
    body = _body()
    ids = body.get("task_ids")
    if body.get("action") not in BULK_ACTIONS or not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK:
        abort(400, f"send an action ({', '.join(BULK_ACTIONS)}) and 1 to {MAX_BULK} task_ids")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        abort(400, "task_ids must be whole numbers")
    results = run_bulk(current_user.actor, body["action"], ids, str(body.get("opinion") or ""))
    done = sum(r.ok for r in results)
    return jsonify(results=[asdict(r) for r in results], succeeded=done, failed=len(results) - done)


@api.route("/inbox/filters")
def filters():
    return jsonify(filters=[_json(f) for f in inbox_models.saved_filters(db.session, current_user.actor)])


@api.route("/inbox/filters", methods=["POST"])
def save_filter():
    body = _body()
    query = inbox_models.parse_query({k: str(v) for k, v in (body.get("query") or {}).items()})
    with unit_of_work(runtime()) as session:
        name = str(body.get("name") or "")
        filter_id = inbox_models.save_filter(session, current_user.actor, name, query, now())
        saved = inbox_models.saved_filter(session, current_user.actor, filter_id)
    return jsonify(_json(saved)), 201


@api.route("/inbox/filters/<int:filter_id>")
def saved_filter(filter_id: int):
    return _saved(filter_id)


@api.route("/inbox/filters/<int:filter_id>", methods=["DELETE"])
def delete_filter(filter_id: int):
    try:
        with unit_of_work(runtime()) as session:
            inbox_models.delete_filter(session, current_user.actor, filter_id)
    except inbox_models.SavedFilterNotFound:
        abort(404)
    return jsonify(ok=True)


@api.route("/inbox/cc/<int:cc_id>/read", methods=["POST"])
def read_copy(cc_id: int):
    try:
        with unit_of_work(runtime()) as session:
            changed = inbox_models.mark_cc_read(session, current_user.actor, cc_id, now())
    except LookupError:
        abort(404)
    return jsonify(ok=True, changed=changed)


def _saved(filter_id: int):
    try:
        return jsonify(_json(inbox_models.saved_filter(db.session, current_user.actor, filter_id)))
    except inbox_models.SavedFilterNotFound:
        abort(404)


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        abort(400, "send a JSON object")
    return body


def _form_data(task_id: int, data) -> dict:
    """Check a step's form data with the step's own form, as the page does; return the values it keeps."""
    if not isinstance(data, dict):
        abort(400, "data must be a JSON object")
    detail = inbox.task_detail(runtime(), db.session, current_user.actor, task_id)
    form_class = form_catalog().get(detail.form_key)
    if form_class is None:
        return {}
    form = form_class(formdata=MultiDict({k: str(v) for k, v in data.items()}), meta={"csrf": False})
    if not form.validate():
        abort(422, "; ".join(f"{name}: {', '.join(errs)}" for name, errs in form.errors.items()))
    return {k: v for k, v in form.data.items() if k not in ("csrf_token", "opinion")}


def _item(item) -> dict:
    found = _json(item)
    task = getattr(item, "task", item)
    if isinstance(task, inbox.TaskItem):
        (found.get("task") or found)["due_status"] = inbox.due_status(task.due_at, now())
    return found


def _json(value):
    """Return dataclasses, lists and dates as JSON-ready values, dates in ISO 8601."""
    if is_dataclass(value):
        return {key: _json(v) for key, v in asdict(value).items()}
    if isinstance(value, dict):
        return {key: _json(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def _error(status: int, code: str, message: str):
    return jsonify(error=code, message=message), status


LIST_PARAMS = {
    "view": ("string", "mine (default), queue, done, started or cc"),
    "sort": ("string", "due (default), created or priority; done: completed; started: created; cc: copied"),
    "process": ("string", "process key"),
    "region": ("string", "six-digit region code; a city or province code takes the regions under it"),
    "organisation": ("integer", "organisation id: its registration's tasks"),
    "applicant": ("string", "the start of the applicant's name"),
    "overdue": ("boolean", "only tasks past their due date"),
    "due_within": ("integer", "only tasks due from now to this many days ahead"),
    "created_from": ("string", "YYYY-MM-DD, Beijing time"),
    "created_to": ("string", "YYYY-MM-DD, Beijing time, inclusive"),
    "cursor": ("string", "next_cursor of the previous page"),
    "limit": ("integer", "items per page, 1 to 100 (default 20)"),
}
DIRECTORY_PARAMS = {
    name: ("string", name)
    for name in ("q", "kind", "region", "status", "employer_id", "title_level", "after")
}
BODIES = {
    "action": {"opinion": "string", "data": "object"},
    "bulk": {"action": "string", "task_ids": "array", "opinion": "string"},
    "filter": {"name": "string", "query": "object"},
}
ROUTES = (  # method, path, summary, query parameters, request body
    ("get", "/api/openapi.json", "This description of the API", None, None),
    ("get", "/api/inbox/csrf", "A CSRF token to send as the X-CSRFToken header of every POST", None, None),
    ("get", "/api/inbox/tasks", "One page of an inbox list, filtered and sorted", LIST_PARAMS, None),
    ("get", "/api/inbox/counts", "Badge counts of every list; a count above `cap` means more", None, None),
    ("get", "/api/inbox/tasks/{task_id}", "A task you may see, with its data", None, None),
    (
        "post",
        "/api/inbox/tasks/{task_id}/{action}",
        "Claim, unclaim, complete, return or reject",
        None,
        "action",
    ),
    ("post", "/api/inbox/bulk", "Approve or return tasks, each in its own transaction", None, "bulk"),
    ("get", "/api/inbox/filters", "Your saved filters", None, None),
    (
        "post",
        "/api/inbox/filters",
        "Save a list query under a name (a name saved again is replaced)",
        None,
        "filter",
    ),
    ("get", "/api/inbox/filters/{filter_id}", "One of your saved filters", None, None),
    ("delete", "/api/inbox/filters/{filter_id}", "Delete one of your saved filters", None, None),
    ("post", "/api/inbox/cc/{cc_id}/read", "Mark a copy sent to you read", None, None),
    ("get", "/api/organisations", "Organisations within your jurisdiction", DIRECTORY_PARAMS, None),
    ("get", "/api/organisations/{org_id}", "One organisation within your jurisdiction", None, None),
    ("get", "/api/persons", "Professionals within your jurisdiction", DIRECTORY_PARAMS, None),
    ("get", "/api/persons/{person_id}", "One professional within your jurisdiction", None, None),
)


def openapi_document() -> dict:
    """Return the OpenAPI 3 description of every route under /api, built from ROUTES."""
    paths: dict = {}
    for method, path, summary, params, body in ROUTES:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, params, body)
    error = {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "CE Flow API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": error},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
    }


def _operation(method: str, path: str, summary: str, params: dict | None, body: str | None) -> dict:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    parameters = [_parameter(name, "path", "string" if name == "action" else "integer") for name in names]
    parameters += [_parameter(name, "query", kind, text) for name, (kind, text) in (params or {}).items()]
    failing = {"400": "bad request", "401": "not signed in", "404": "not found or not yours to see"}
    if method != "get":
        failing |= {"403": "not allowed", "409": "already handled by someone", "422": "refused"}
    responses = {"201" if path.endswith("/filters") and method == "post" else "200": {"description": "done"}}
    responses |= {code: _error_response(text) for code, text in failing.items()}
    found = {"summary": summary, "parameters": parameters, "responses": responses}
    if method != "get":
        found["security"] = [{"session": [], "csrf": []}]
    elif path != "/api/openapi.json":
        found["security"] = [{"session": []}]
    if body:
        properties = {name: {"type": kind} for name, kind in BODIES[body].items()}
        schema = {"type": "object", "properties": properties}
        found["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    return found


def _parameter(name: str, where: str, kind: str, text: str = "") -> dict:
    found = {"name": name, "in": where, "required": where == "path", "schema": {"type": kind}}
    if name == "action":
        found["schema"]["enum"] = list(ACTIONS)
    return found | ({"description": text} if text else {})


def _error_response(text: str) -> dict:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": text, "content": {"application/json": {"schema": schema}}}
