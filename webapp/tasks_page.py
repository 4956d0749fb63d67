"""The task page's extras: the diagram, attachments, return to a step, transfer (转办), delegate (委派)."""

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
from domain import colleagues
from engine import assignment
from engine import commands
from engine import diagram_view
from engine.errors import EngineError
from engine.errors import NotAllowed
from engine.errors import TaskNotFound
from engine.runtime import unit_of_work
from webapp.extensions import db
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
    colleagues: list[colleagues.Colleague]
    assignee_name: str | None
    owner_name: str | None
    due: str  # "overdue", "soon" or ""


def runtime():
    return current_app.extensions["ceflow.runtime"]


def attachment_dir() -> Path:
    """Return the folder attachments are stored in (ATTACHMENT_DIR, else the instance folder's)."""
    return Path(current_app.config["ATTACHMENT_DIR"] or Path(current_app.instance_path) / "attachments")


@blueprint.app_context_processor
def task_page_helpers() -> dict:
    """Let the task page ask for its extras (queried only when the page renders)."""
    return {"task_extras": task_extras}


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
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    return TaskExtras(
        attachments=attachments.attachments_of(db.session, item.instance_id),
        may_upload=holds,
        accept=",".join(f".{extension}" for extension in attachments.ALLOWED_EXTENSIONS),
        max_mb=f"{limit / 2**20:g}",
        return_steps=facts.return_steps,
        opinion_required=facts.opinion_required,
        colleagues=colleagues.colleagues_of(db.session, actor) if hands_over else [],
        assignee_name=names.get(item.assignee_id),
        owner_name=names.get(detail.owner_id),
        due=due_state(item.due_at, runtime().clock()) if detail.state == "open" else "",
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
        with unit_of_work(runtime()) as session:
            attachments.add_attachment(
                session, attachment_dir(), checked, held.instance_id, held.id, actor, runtime().clock()
            )
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
        if not diagram_view.may_see_instance(db.session, current_user.actor, found.instance_id):
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


@blueprint.route("/tasks/<int:task_id>/transfer", methods=["POST"])
@login_required
def transfer(task_id: int):
    return _hand_over(task_id, "transfer", assignment.transfer_task, _("Transferred."), go_to_list=True)


@blueprint.route("/tasks/<int:task_id>/delegate", methods=["POST"])
@login_required
def delegate(task_id: int):
    return _hand_over(task_id, "delegate", assignment.delegate_task, _("Delegated; it comes back to you."))


def _hand_over(task_id: int, action: str, command: Callable, success: str, go_to_list: bool = False):
    """Give the task to a colleague chosen on the page, with the opinion the step asks for."""
    actor = current_user.actor
    to_user_id = request.form.get("to_user_id", type=int)
    opinion = request.form.get("opinion", "").strip()
    try:
        facts = diagram_view.task_facts(db.session, actor, task_id)
    except TaskNotFound:
        abort(404)
    if to_user_id is None or not colleagues.is_colleague(db.session, actor, to_user_id):
        flash(_("Choose an active colleague of your organisation."), "error")
        return _back_to(task_id, "handover")
    if action in facts.opinion_required and not opinion:
        flash(_("Please write an opinion for this action."), "error")
        return _back_to(task_id, "handover")
    rt = runtime()
    return _act(task_id, lambda: command(rt, actor, task_id, to_user_id, opinion), success, go_to_list)


def _act(task_id: int, command: Callable, success: str, go_to_list: bool = False):
    try:
        command()
    except TaskNotFound:
        abort(404)
    except EngineError as error:
        flash(explain(error), "error")
        return _back_to(task_id)
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
