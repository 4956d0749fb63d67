"""The task page's routes besides deciding: diagram, attachments, and the action forms (one service call)."""

import io

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
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_login import login_required

from domain import attachments
from engine.errors import EngineError
from engine.errors import NotAllowed
from engine.errors import TaskNotFound
from engine.inbox import diagram_view
from engine.inbox import queries as inbox
from engine.tasks import copies
from engine.tasks import permissions
from engine.tasks import visibility
from forms.task_actions import ACTION_FORMS
from services import tasks as tasks_service
from services.attachments import attach_to_task
from webapp import confirmation
from webapp.errors import http_error
from webapp.extensions import db
from webapp.extensions import file_store
from webapp.extensions import now
from webapp.extensions import runtime
from webapp.inbox import safe_list_back
from webapp.messages import explain

blueprint = Blueprint("tasks_page", __name__)


@blueprint.route("/instances/<id:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int):
    try:
        view = diagram_view.instance_diagram(db.session, current_user.actor, instance_id)
    except TaskNotFound:
        abort(404)
    response = jsonify(xml=view.xml, completed=list(view.completed), current=list(view.current))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/tasks/<id:task_id>/attachments", methods=["POST"])
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
        attach_to_task(runtime(), actor, held.id, file_store(), checked)
    except TaskNotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    except attachments.AttachmentRefused as refused:
        flash(explain(refused), "error")
    else:
        flash(_("Attached %(name)s.", name=checked.filename), "success")
    return _back_to(task_id, "attachments")


@blueprint.app_errorhandler(413)
def upload_too_large(error):
    """Explain a request over MAX_CONTENT_LENGTH on the task page; other pages show the error page."""
    if request.endpoint != "tasks_page.upload":
        return http_error(error)
    limit = f"{current_app.config['ATTACHMENT_MAX_BYTES'] / 2**20:g}"
    flash(_("The file is larger than %(limit)s MB.", limit=limit), "error")
    return _back_to(request.view_args["task_id"], "attachments")


@blueprint.route("/attachments/<id:attachment_id>")
@login_required
def download(attachment_id: int):
    try:
        found = attachments.attachment(db.session, attachment_id)
        if not visibility.may_view_instance(db.session, current_user.actor, found.instance_id):
            abort(404)
        data = attachments.attachment_bytes(db.session, file_store(), found)
    except attachments.AttachmentNotFound:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=found.content_type,
        as_attachment=True,
        download_name=found.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/tasks/<id:task_id>/return", methods=["POST"])
@login_required
def return_to_step(task_id: int):
    return task_action(task_id, "return")


SUCCESS = {
    "return": lazy_gettext("Returned to an earlier step."),
    "transfer": lazy_gettext("Transferred."),
    "delegate": lazy_gettext("Delegated; it comes back to you."),
    "countersign": lazy_gettext("Approver added."),
    "reassign": lazy_gettext("Reassigned."),
    "terminate": lazy_gettext("The process was terminated."),
    "urge": lazy_gettext("Urged: the holder has been notified."),
}


@blueprint.route("/tasks/<id:task_id>/urge", methods=["POST"])
@login_required
def urge_step(task_id: int):
    """Urge the holder of an open step, from the task page or the list of one's applications."""
    return task_action(task_id, "urge")


@blueprint.route("/tasks/<id:task_id>/cc", methods=["POST"])
@login_required
def copy(task_id: int):
    """Send a copy of the task to the colleagues chosen on the page, with a note (抄送)."""
    return task_action(task_id, "copy")


@blueprint.route(
    "/tasks/<id:task_id>/<any(transfer, delegate, countersign, reassign, terminate):action>",
    methods=["POST"],
)
@login_required
def task_action(task_id: int, action: str):
    """Run one of the task page's forms: validate it, call the tasks service, redirect with the outcome."""
    form = ACTION_FORMS[action]()
    anchor = {"transfer": "handover", "delegate": "handover", "copy": "cc"}.get(action, action)
    back = safe_list_back(request.form.get("back")) if action in ("urge", "reassign", "terminate") else None
    try:
        if not form.validate_on_submit():
            if form.csrf_token.errors:
                abort(400)
            # one who may not see the task learns nothing of it, not even that the form was incomplete
            visibility.viewable_task_instance(db.session, current_user.actor, task_id)
            flash(_form_errors(form), "error")
            return redirect(back) if back else _back_to(task_id, anchor)
        if action == "terminate" and form.opinion.data.strip() and not confirmation.confirmed():
            return _confirm_termination(task_id)
        result = tasks_service.act_on_task(runtime(), current_user.actor, action, task_id, form_input(form))
    except TaskNotFound:
        abort(404)
    except EngineError as error:
        flash(explain(error), "error")
        return redirect(back) if back else _back_to(task_id, anchor)
    flash(copy_message(result) if action == "copy" else str(SUCCESS[action]), "success")
    if back:
        return redirect(back)
    leaves = action in ("return", "transfer", "terminate") or (
        action == "countersign" and form.position.data == "before"
    )
    return redirect(url_for("inbox.my_tasks")) if leaves else _back_to(task_id)


def _confirm_termination(task_id: int):
    """Ask the administrator to confirm ending the process, naming it (the page it comes from did too)."""
    actor = current_user.actor
    found = inbox.workable_summaries(db.session, actor, [task_id])
    allowed = permissions.permissions_for(db.session, actor, [task_id], now()).get(task_id)
    if allowed is None or not allowed.may("terminate") or task_id not in found:
        # the command refuses it with its reason: nothing to confirm
        return tasks_service.act_on_task(runtime(), actor, "terminate", task_id, tasks_service.TaskInput())
    subject = found[task_id][0].split(" · ", 1)[-1]
    return confirmation.confirm_page(
        _("Terminate the process?"),
        confirmation.terminate_message(subject),
        _("Terminate"),
        url_for("inbox.task", task_id=task_id, _anchor="terminate"),
    )


def form_input(form) -> tasks_service.TaskInput:
    """Return what a validated action form says, as the service takes it."""
    values = form.data
    return tasks_service.TaskInput(
        opinion=values.get("opinion") or "",
        to_user_id=values.get("to_user_id"),
        user_ids=values.get("to_user_ids") or [],
        position=values.get("position"),
        to_step=values.get("to_step"),
        note=values.get("note") or "",
    )


def _form_errors(form) -> str:
    errors = form.errors.items()
    return "; ".join(str(error) for name, found in errors if name != "csrf_token" for error in found)


def copy_message(result: copies.CopyResult) -> str:
    """Say to whom a copy went, and who had one already."""
    said = []
    if result.copied:
        said.append(_("Copied to %(names)s.", names="、".join(r.name for r in result.copied)))
    if result.already:
        names = "、".join(r.name for r in result.already)
        said.append(_("%(names)s already had a copy; it was not sent again.", names=names))
    return " ".join(said)


def _back_to(task_id: int, anchor: str | None = None):
    return redirect(url_for("inbox.task", task_id=task_id, _anchor=anchor))
