"""The task page's extras: diagram, attachments, return to a step, and the side actions' forms and routes."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from domain import attachments
from domain.accounts import colleagues
from engine.errors import EngineError
from engine.errors import NotAllowed
from engine.errors import TaskNotFound
from engine.inbox import diagram_view
from engine.tasks import commands
from engine.tasks import copies
from engine.tasks import urge
from engine.tasks import visibility
from services.attachments import attach_to_task
from webapp import task_actions
from webapp.application_view import application_rows
from webapp.extensions import db
from webapp.inbox import runtime
from webapp.inbox import safe_list_back
from webapp.messages import explain

blueprint = Blueprint("tasks_page", __name__)
SOON = timedelta(hours=48)


@dataclass(frozen=True)
class TaskExtras:
    """What the task page shows besides the task: files, return targets, colleagues, delegation, due."""

    attachments: list[attachments.AttachmentView]
    may_upload: bool
    accept: str
    max_mb: str
    return_steps: tuple[diagram_view.Step, ...]
    opinion_required: frozenset[str]
    colleagues: list[colleagues.Colleague]  # whom the holder can hand the task over to
    # the viewer's colleagues if they may act: whom to copy the task to (抄送); countersign picks from them
    copy_choices: list[colleagues.Colleague]
    assignee_name: str | None
    owner_name: str | None
    due: str  # "overdue", "soon" or ""
    application: list[tuple[str, str]]  # the application's fields as (label, value)


def attachment_dir() -> Path:
    """Return the folder attachments are stored in (ATTACHMENT_DIR, else the instance folder's)."""
    return Path(current_app.config["ATTACHMENT_DIR"] or Path(current_app.instance_path) / "attachments")


@blueprint.app_context_processor
def task_page_helpers() -> dict:
    """Let the task page ask for its extras (queried only when the page renders)."""
    return {"task_extras": task_extras, "side_actions": _side_actions, "urged_today": _urged_today}


def _side_actions(detail, colleague_choices: list[colleagues.Colleague]) -> task_actions.SideActions:
    return task_actions.side_actions(detail, current_user.actor, runtime().clock(), colleague_choices)


def _urged_today(items) -> set[int]:
    """Return which open steps of the listed applications were urged today (the "started" list)."""
    step_ids = [step.task_id for item in items for step in item.steps]
    return urge.urged_today(db.session, step_ids, runtime().clock())


def task_extras(detail) -> TaskExtras:
    """Return the extras of a task the signed-in user may see (task_detail checked that)."""
    actor, item = current_user.actor, detail.item
    try:
        facts = diagram_view.task_facts(db.session, actor, item.id)
    except TaskNotFound:  # task_detail let the user in on a rule task_facts does not know: offer no extras
        facts = diagram_view.TaskFacts((), diagram_view.ALWAYS_WITH_OPINION)
    holds = detail.state == "open" and item.assignee_id == actor.id
    hands_over = holds and detail.owner_id is None and {"transfer", "delegate"} & set(detail.allowed_actions)
    names = colleagues.display_names(db.session, (item.assignee_id, detail.owner_id))
    # one query for hand-over, copy and countersign: each is offered only to one who may act (the holder may)
    choices = colleagues.colleagues_of(db.session, actor) if detail.may_act else []
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    return TaskExtras(
        attachments=attachments.attachments_of(db.session, item.instance_id),
        may_upload=holds,
        accept=",".join(f".{extension}" for extension in attachments.ALLOWED_EXTENSIONS),
        max_mb=f"{limit / 2**20:g}",
        return_steps=facts.return_steps,
        opinion_required=facts.opinion_required,
        colleagues=choices if hands_over else [],
        copy_choices=choices,
        assignee_name=names.get(item.assignee_id),
        owner_name=names.get(detail.owner_id),
        due=due_state(item.due_at, runtime().clock()) if detail.state == "open" else "",
        application=application_rows(db.session, detail.data),
    )


def due_state(due_at: datetime | None, now: datetime) -> str:
    """Say whether a due date has passed ("overdue"), is within 48 hours ("soon"), or neither ("")."""
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    return "soon" if due_at - now <= SOON else ""


@blueprint.route("/instances/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int):
    try:
        view = diagram_view.instance_diagram(db.session, current_user.actor, instance_id)
    except TaskNotFound:
        abort(404)
    response = jsonify(xml=view.xml, completed=list(view.completed), current=list(view.current))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/tasks/<int:task_id>/attachments", methods=["POST"])
@login_required
def upload(task_id: int):
    actor = current_user.actor
    try:
        held = diagram_view.held_open_task(db.session, actor, task_id)
    except TaskNotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash(_("Choose a file to attach."), "error")
        return _back_to(task_id, "attachments")
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    try:
        checked = attachments.check_upload(sent.filename, sent.stream.read(limit + 1), limit)
        attach_to_task(runtime(), actor, held.id, attachment_dir(), checked)
    except TaskNotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    except attachments.AttachmentRefused as refused:
        flash(explain_refusal(refused), "error")
    else:
        flash(_("Attached %(name)s.", name=checked.filename), "success")
    return _back_to(task_id, "attachments")


@blueprint.app_errorhandler(413)
def upload_too_large(error):
    """Explain a request over MAX_CONTENT_LENGTH on the task page; leave other pages' 413 alone."""
    if request.endpoint != "tasks_page.upload":
        return error
    limit = f"{current_app.config['ATTACHMENT_MAX_BYTES'] / 2**20:g}"
    flash(_("The file is larger than %(limit)s MB.", limit=limit), "error")
    return _back_to(request.view_args["task_id"], "attachments")


@blueprint.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    try:
        found = attachments.attachment(db.session, attachment_id)
        if not visibility.may_view_instance(db.session, current_user.actor, found.instance_id):
            abort(404)
        path = attachments.stored_path(attachment_dir(), found.stored_name)
    except attachments.AttachmentNotFound:
        abort(404)
    response = send_file(
        path, mimetype=found.content_type, as_attachment=True, download_name=found.filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/tasks/<int:task_id>/return", methods=["POST"])
@login_required
def return_to_step(task_id: int):
    rt, actor = runtime(), current_user.actor
    to_step = request.form.get("to_step") or None
    opinion = request.form.get("opinion", "").strip()
    return _act(
        task_id,
        lambda: commands.return_task(rt, actor, task_id, opinion, to_step),
        _("Returned to an earlier step."),
        go_to_list=True,
    )


@blueprint.route(
    "/tasks/<int:task_id>/<any(transfer, delegate, countersign, reassign, terminate):action>",
    methods=["POST"],
)
@login_required
def task_action(task_id: int, action: str):
    """Run one of the task page's side forms: hand over, add an approver, reassign or terminate."""
    actor = current_user.actor
    command = lambda: task_actions.run_task_action(actor, action, task_id, request.form)  # noqa: E731
    leaves = action in ("transfer", "terminate") or (
        action == "countersign" and request.form.get("position") == "before"
    )
    anchor = "handover" if action in ("transfer", "delegate") else action
    return _act(task_id, command, task_actions.success_message(action), go_to_list=leaves, anchor=anchor)


@blueprint.route("/tasks/<int:task_id>/cc", methods=["POST"])
@login_required
def copy(task_id: int):
    """Send a copy of the task to the colleagues chosen on the page, with a note (抄送)."""
    user_ids = request.form.getlist("to_user_ids", type=int)
    note = request.form.get("note", "")
    try:
        result = copies.copy_task(runtime(), current_user.actor, task_id, user_ids, note)
    except TaskNotFound:
        abort(404)
    except EngineError as error:
        flash(explain(error), "error")
        return _back_to(task_id, "cc")
    flash(copy_message(result), "success")
    return _back_to(task_id)


def copy_message(result: copies.CopyResult) -> str:
    """Say to whom a copy went, and who had one already."""
    said = []
    if result.copied:
        said.append(_("Copied to %(names)s.", names="、".join(r.name for r in result.copied)))
    if result.already:
        names = "、".join(r.name for r in result.already)
        said.append(_("%(names)s already had a copy; it was not sent again.", names=names))
    return " ".join(said)


@blueprint.route("/tasks/<int:task_id>/urge", methods=["POST"])
@login_required
def urge_step(task_id: int):
    """Urge the holder of an open step, from the task page or the list of one's applications."""
    actor, back = current_user.actor, safe_list_back(request.form.get("back"))
    try:
        task_actions.run_task_action(actor, "urge", task_id, request.form)
    except TaskNotFound:
        abort(404)
    except (EngineError, task_actions.Refused) as error:
        flash(_message(error), "error")
    else:
        flash(task_actions.success_message("urge"), "success")
    return redirect(back or url_for("inbox.task", task_id=task_id))


def _message(error: Exception) -> str:
    if isinstance(error, task_actions.Refused):
        return str(error)
    return explain(error)


def _act(task_id: int, command: Callable, success: str, go_to_list: bool = False, anchor: str | None = None):
    try:
        command()
    except TaskNotFound:
        abort(404)
    except (EngineError, task_actions.Refused) as error:
        flash(_message(error), "error")
        return _back_to(task_id, anchor)
    flash(success, "success")
    return redirect(url_for("inbox.my_tasks")) if go_to_list else _back_to(task_id)


def _back_to(task_id: int, anchor: str | None = None):
    return redirect(url_for("inbox.task", task_id=task_id, _anchor=anchor))


def explain_refusal(refused: attachments.AttachmentRefused) -> str:
    """Return why an upload was refused, in the user's language."""
    params = refused.params
    if refused.code == "empty":
        return _("The file %(name)s is empty.", **params)
    if refused.code == "too_big":
        return _("The file %(name)s is larger than %(limit)s MB.", **params)
    if refused.code == "type":
        return _("%(name)s is not an allowed type; allowed are %(allowed)s.", **params)
    return _("%(name)s is not really a %(kind)s file; its content does not match its name.", **params)
