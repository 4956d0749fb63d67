"""The approvers' inbox: my tasks, my groups' queue, done by me, and the task page."""

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from engine import assignment
from engine import commands
from engine import inbox
from engine.errors import EngineError
from engine.errors import TaskNotFound
from forms.catalog import form_catalog
from webapp.extensions import db
from webapp.messages import explain

blueprint = Blueprint("inbox", __name__)
VIEWS = ("mine", "queue", "done")


def runtime():
    return current_app.extensions["ceflow.runtime"]


@blueprint.route("/")
@login_required
def home():
    return redirect(url_for("inbox.my_tasks"))


@blueprint.route("/tasks")
@login_required
def my_tasks():
    view = request.args.get("view", "mine")
    if view not in VIEWS:
        abort(404)
    actor = current_user.actor
    cursor = request.args.get("cursor")
    if view == "mine":
        page = inbox.my_tasks(db.session, actor, cursor)
    elif view == "queue":
        page = inbox.queued_tasks(db.session, actor, cursor)
    else:
        page = inbox.Page(inbox.done_tasks(db.session, actor), None)
    counts = inbox.inbox_counts(db.session, actor)
    return render_template("tasks.html", view=view, page=page, counts=counts)


@blueprint.route("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    try:
        detail = inbox.task_detail(runtime(), db.session, current_user.actor, task_id)
    except TaskNotFound:
        abort(404)
    form_class = form_catalog().get(detail.form_key)
    form = form_class(data=detail.data) if form_class and detail.state == "open" else None
    return render_template(
        "task.html",
        detail=detail,
        form=form,
        history=inbox.history(db.session, detail.item.instance_id),
        action_labels=action_labels(),
    )


@blueprint.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    return _act(task_id, lambda: assignment.claim_task(runtime(), current_user.actor, task_id), _("Claimed."))


@blueprint.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: int):
    return _act(
        task_id, lambda: assignment.unclaim_task(runtime(), current_user.actor, task_id), _("Released.")
    )


@blueprint.route("/tasks/<int:task_id>/complete", methods=["POST"])
@login_required
def complete(task_id: int):
    try:
        detail = inbox.task_detail(runtime(), db.session, current_user.actor, task_id)
    except TaskNotFound:
        abort(404)
    form_class = form_catalog().get(detail.form_key)
    form = form_class()
    action = request.form.get("action", "approve")
    if not form.validate_on_submit():
        flash(_("Please correct the form: %(errors)s", errors=_form_errors(form)), "error")
        return redirect(url_for("inbox.task", task_id=task_id))
    data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "opinion")}
    opinion = (form.data.get("opinion") or request.form.get("opinion") or "").strip()
    rt, actor = runtime(), current_user.actor
    actions = {
        "approve": lambda: commands.complete_task(rt, actor, task_id, data, opinion),
        "return": lambda: commands.return_task(rt, actor, task_id, opinion),
        "reject": lambda: commands.reject_task(rt, actor, task_id, opinion),
    }
    if action not in actions:
        abort(400)
    return _act(task_id, actions[action], _("Done."), go_to_list=True)


def action_labels() -> dict[str, str]:
    """Return the audit actions in the user's language."""
    return {
        "start": _("started"),
        "approve": _("approved"),
        "return": _("returned"),
        "reject": _("rejected"),
        "claim": _("claimed"),
        "unclaim": _("released"),
        "transfer": _("transferred"),
        "delegate": _("delegated"),
        "resolve": _("resolved the delegation"),
        "withdraw": _("withdrew"),
        "terminate": _("terminated"),
        "timer_fired": _("deadline reached"),
        "remind": _("reminded"),
        "escalate": _("escalated to the next level"),
    }


def _act(task_id: int, command, success: str, go_to_list: bool = False):
    try:
        command()
    except TaskNotFound:
        abort(404)
    except EngineError as error:
        flash(explain(error), "error")
        return redirect(url_for("inbox.task", task_id=task_id))
    flash(success, "success")
    return redirect(url_for("inbox.my_tasks") if go_to_list else url_for("inbox.task", task_id=task_id))


def _form_errors(form) -> str:
    return "; ".join(f"{form[name].label.text}: {', '.join(errs)}" for name, errs in form.errors.items())
