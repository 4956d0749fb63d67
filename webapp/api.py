"""The inbox as JSON: the same lists, filters, cursors and actions as the pages, under /api/inbox."""

from dataclasses import asdict
from dataclasses import fields
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

from domain.text import TextRefused
from engine.inbox import list_query
from engine.inbox import queries as inbox
from engine.inbox import saved_filters
from engine.tasks import permissions
from engine.tasks import visibility
from forms.catalog import form_catalog
from forms.ids import MAX_ID
from forms.ids import parse_id
from forms.task_actions import ACTION_FORMS
from services import inbox as inbox_service
from services import tasks as tasks_service
from services.tasks import BULK_ACTIONS
from webapp.api_spec import openapi_document
from webapp.errors import json_error
from webapp.extensions import csrf
from webapp.extensions import db
from webapp.extensions import now
from webapp.extensions import runtime
from webapp.inbox_bulk import MAX_BULK
from webapp.inbox_bulk import run_bulk
from webapp.messages import explain
from webapp.rate_limits import public_page
from webapp.tasks_page import form_input

api = Blueprint("inbox_api", __name__, url_prefix="/api")
ACTIONS = {
    "claim": "claim",
    "unclaim": "release",
    "complete": "approve",
    "return": "return",
    "reject": "reject",
} | {name: name for name in ("transfer", "delegate", "countersign", "reassign", "terminate", "urge")}
PUBLIC = ("inbox_api.openapi",)


@api.record_once
def check_csrf_here(state) -> None:
    """Check the CSRF token in `signed_in_only`, after the sign-in check, so a stranger gets a 401."""
    csrf.exempt(api)


@api.before_request
def signed_in_only():
    """Answer a request without a session with a JSON 401; then require the CSRF header on writes."""
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return json_error(401, "unauthorized", _("Sign in first."))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # the X-CSRFToken header (or a csrf_token field); CSRFError otherwise
    return None


@api.errorhandler(CSRFError)
def csrf_refused(error):
    message = _("The CSRF token is missing or invalid: send it in the X-CSRFToken header.")
    return json_error(400, "csrf", message)


@api.errorhandler(HTTPException)
def httpjson_error(error):
    return json_error(error.code or 500, error.name.lower().replace(" ", "_"), error.description)


@api.errorhandler(list_query.BadQuery)
def bad_query(error):
    return json_error(400, "bad_request", str(error))


@api.errorhandler(TextRefused)
def text_refused(error):
    """Say which field's text was refused and why (domain.text), as the forms do."""
    return json_error(422, "TextRefused", f"{error.params['field']}: {explain(error)}", error.code)


@api.route("/openapi.json")
@public_page
def openapi():
    return jsonify(openapi_document(list(ACTIONS)))


@api.route("/inbox/csrf")
def csrf_token():
    return jsonify(csrf_token=generate_csrf())


@api.route("/inbox/tasks")
def tasks():
    limit = request.args.get("limit", 20, type=int)
    if not 1 <= limit <= inbox.MAX_LIMIT:
        abort(400)
    query = list_query.parse_query(request.args)
    page = inbox.list_tasks(db.session, current_user.actor, query, now(), request.args.get("cursor"), limit)
    return jsonify(view=query.view, items=[_item(i) for i in page.items], next_cursor=page.next_cursor)


@api.route("/inbox/counts")
def counts():
    return jsonify(counts=inbox.inbox_counts(db.session, current_user.actor), cap=inbox.CAP)


@api.route("/inbox/tasks/<id:task_id>")
def task(task_id: int):
    detail = inbox.task_detail(runtime(), db.session, current_user.actor, task_id)
    found = _json(detail)
    found["item"]["due_status"] = inbox.due_status(detail.item.due_at, now())
    perms = permissions.task_permissions(db.session, current_user.actor, task_id, now())
    found["actions"] = {
        "allowed": sorted(perms.allowed),
        "refused": dict(perms.refused),
        "opinion_required": sorted(perms.opinion_required),
        "return_steps": [_json(step) for step in perms.return_steps],
    }
    return jsonify(found)


@api.route("/inbox/tasks/<id:task_id>/<action>", methods=["POST"])
def task_action(task_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    body = _body()
    name = ACTIONS[action]
    if name in ACTION_FORMS:
        given = _action_input(task_id, name, body)
    else:
        opinion = str(body.get("opinion") or "")
        data = _form_data(task_id, body.get("data") or {}) if action == "complete" else None
        given = tasks_service.TaskInput(opinion=opinion, data=data)
    tasks_service.act_on_task(runtime(), current_user.actor, name, task_id, given)
    return jsonify(ok=True, task_id=task_id, action=action)


def _action_input(task_id: int, action: str, body: dict) -> tasks_service.TaskInput:
    """Parse an action's JSON body with the page's form class; 404 before any complaint about the input."""
    values = MultiDict()
    for key, value in body.items():
        for each in value if isinstance(value, list) else [value]:
            values.add(key, "" if each is None else str(each))
    form = ACTION_FORMS[action](formdata=values, meta={"csrf": False})
    if not form.validate():
        visibility.viewable_task_instance(db.session, current_user.actor, task_id)
        problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        raise Refused(problems)
    return form_input(form)


@api.route("/inbox/tasks/<id:task_id>/cc", methods=["POST"])
def copy_task(task_id: int):
    body = _body()
    note = str(body.get("note") or "")
    user_ids = body.get("user_ids")
    if isinstance(user_ids, list):  # the engine refuses what is not an id; None stands for a number too large
        user_ids = [parse_id(i) if isinstance(i, int) else i for i in user_ids]
    given = tasks_service.TaskInput(user_ids=user_ids, note=note)
    result = tasks_service.act_on_task(runtime(), current_user.actor, "copy", task_id, given)
    return jsonify(_json(result))


@api.route("/inbox/bulk", methods=["POST"])
def bulk():
    body = _body()
    ids = body.get("task_ids")
    if body.get("action") not in BULK_ACTIONS or not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK:
        abort(400, f"send an action ({', '.join(BULK_ACTIONS)}) and 1 to {MAX_BULK} task_ids")
    if not all(parse_id(i) == i for i in ids):  # whole numbers an id column can hold, not "7" or 2**31
        abort(400, f"task_ids must be task ids: whole numbers from 1 to {MAX_ID}")
    results = run_bulk(current_user.actor, body["action"], ids, str(body.get("opinion") or ""))
    done = sum(r.ok for r in results)
    return jsonify(results=[asdict(r) for r in results], succeeded=done, failed=len(results) - done)


@api.route("/inbox/filters")
def filters():
    return jsonify(filters=[_json(f) for f in saved_filters.saved_filters(db.session, current_user.actor)])


@api.route("/inbox/filters", methods=["POST"])
def save_filter():
    body = _body()
    query = list_query.parse_query({k: str(v) for k, v in (body.get("query") or {}).items()})
    saved = inbox_service.save_filter(runtime(), current_user.actor, str(body.get("name") or ""), query)
    return jsonify(_json(saved)), 201


@api.route("/inbox/filters/<id:filter_id>")
def saved_filter(filter_id: int):
    return _saved(filter_id)


@api.route("/inbox/filters/<id:filter_id>", methods=["DELETE"])
def delete_filter(filter_id: int):
    try:
        inbox_service.delete_filter(runtime(), current_user.actor, filter_id)
    except saved_filters.SavedFilterNotFound:
        abort(404)
    return jsonify(ok=True)


@api.route("/inbox/cc/<id:cc_id>/read", methods=["POST"])
def read_copy(cc_id: int):
    try:
        changed = inbox_service.read_copy(runtime(), current_user.actor, cc_id)
    except LookupError:
        abort(404)
    return jsonify(ok=True, changed=changed)


def _saved(filter_id: int):
    try:
        return jsonify(_json(saved_filters.saved_filter(db.session, current_user.actor, filter_id)))
    except saved_filters.SavedFilterNotFound:
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
    if is_dataclass(value):  # field by field: asdict() would deep-copy every value first
        return {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: _json(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


class Refused(Exception):
    """An action's input did not parse; the message lists the form's errors."""


@api.errorhandler(Refused)
def refused_input(error):
    return json_error(422, "refused", str(error))
