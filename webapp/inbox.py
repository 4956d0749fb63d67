"""The approvers' inbox: five lists with filters and saved filters, and the task page.

Bulk actions on the lists are in webapp.inbox_bulk, on a blueprint of their own.
"""

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from domain.organisations.directory import visible_regions
from engine.errors import EngineError
from engine.errors import TaskNotFound
from engine.inbox import list_query
from engine.inbox import queries as inbox
from engine.inbox import saved_filters
from engine.runtime.definitions import list_definitions
from engine.tasks import permissions
from forms.catalog import form_catalog
from forms.ids import parse_id
from services import inbox as inbox_service
from services import tasks as tasks_service
from services.registration import resubmit_person
from webapp import confirmation
from webapp import task_view
from webapp import workplace
from webapp.extensions import db
from webapp.extensions import now
from webapp.extensions import runtime
from webapp.messages import explain
from webapp.registration import offer_employers

blueprint = Blueprint("inbox", __name__)
# the applicant's steps of the registrations (form keys): a returned application is corrected there
ORGANISATION_CORRECTION = "org_application"
PERSON_CORRECTION = "person_application"


@blueprint.route("/")
@login_required
def home():
    """Show the signed-in user's workplace (工作台): what waits for them and what their role may do."""
    return workplace.home_page()


@blueprint.route("/tasks")
@login_required
def my_tasks():
    actor = current_user.actor
    if request.args.get("saved"):
        return _open_saved(request.args["saved"])
    try:
        query = list_query.parse_query(request.args)
        page = inbox.list_tasks(db.session, actor, query, now(), request.args.get("cursor"))
    except list_query.BadQuery:
        abort(400)
    return render_template(
        "tasks.html",
        query=query,
        view=query.view,
        page=page,
        counts=inbox.inbox_counts(db.session, actor),
        saved=saved_filters.saved_filters(db.session, actor),
        processes=list_definitions(db.session),
        regions=visible_regions(db.session, actor),
        due_status=inbox.due_status,
        now=now(),
        sort_choices=lambda view: list_query.SORTS[view],
        action_labels=action_labels(),
        urged=_urged(actor, page) if query.view == "started" else set(),
        **_bulk_offer(actor, page, query.view),
        **list_labels(),
    )


def _bulk_offer(actor, page, view: str) -> dict:
    """Return which listed tasks can be picked for a bulk action, and which bulk actions to offer.

    The engine's permission function decides per row; a step with its own form is not approved in bulk
    (the bulk service refuses it too); a list where nothing is allowed offers nothing.
    """
    if view not in ("mine", "queue"):
        return {"bulk_rows": set(), "bulk_actions": (), "bulk_confirm": {}}
    found = permissions.permissions_for(db.session, actor, [item.id for item in page.items], now())
    forms = inbox.workable_summaries(db.session, actor, list(found))
    allowed = {
        task_id: perms.allowed & set(tasks_service.BULK_ACTIONS) - _own_form(forms.get(task_id))
        for task_id, perms in found.items()
    }
    offered = set().union(*allowed.values()) if allowed else set()
    return {
        "bulk_rows": {task_id for task_id, actions in allowed.items() if actions},
        "bulk_actions": tuple(a for a in tasks_service.BULK_ACTIONS if a in offered),
        "bulk_confirm": {a: confirmation.bulk_message(a) for a in offered},
    }


def _own_form(summary: tuple[str, str] | None) -> set[str]:
    """Return {"approve"} for a step with a form of its own: it is approved on its page, never in bulk."""
    return {"approve"} if summary and not tasks_service.opinion_only(summary[1]) else set()


def _urged(actor, page) -> set[int]:
    """Return which open steps of the listed applications were urged today (the "started" list)."""
    step_ids = [step.task_id for item in page.items for step in item.steps]
    found = permissions.permissions_for(db.session, actor, step_ids, now())
    return {task_id for task_id, perms in found.items() if perms.reason("urge") == "already_urged_today"}


def list_labels() -> dict[str, dict[str, str]]:
    """Return the words the lists show for sort orders, process states and queue roles."""
    return {
        "sort_labels": {
            "due": _("Due date"),
            "created": _("Created"),
            "priority": _("Priority"),
            "completed": _("Handled"),
            "copied": _("Copied at"),
        },
        "status_labels": {
            "running": _("In progress"),
            "completed": _("Completed"),
            "rejected": _("Rejected"),
            "withdrawn": _("Withdrawn"),
            "terminated": _("Terminated"),
        },
        "role_labels": {"reviewer": _("reviewers"), "approver": _("approvers"), "hr": _("HR staff")},
    }


LIST_PAGES = ("/tasks", "/oversight")  # the lists an action may send one back to


def safe_list_back(target: str | None) -> str | None:
    """Return a same-site list address (an inbox list, the open work) to go back to, or None."""
    if not target or "\\" in target:
        return None
    return target if any(target == page or target.startswith(page + "?") for page in LIST_PAGES) else None


def _open_saved(given: str):
    filter_id = parse_id(given)
    if filter_id is None:
        abort(400)
    try:
        found = saved_filters.saved_filter(db.session, current_user.actor, filter_id)
    except saved_filters.SavedFilterNotFound:
        abort(404)
    return redirect(url_for("inbox.my_tasks", **found.query))


@blueprint.route("/tasks/filters", methods=["POST"])
@login_required
def save_filter():
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        query = list_query.parse_query(request.form)
        inbox_service.save_filter(runtime(), current_user.actor, request.form.get("name", ""), query)
    except list_query.BadQuery:
        flash(_("Give the filter a name."), "error")
        return redirect(url_for("inbox.my_tasks"))
    flash(_("Filter saved."), "success")
    return redirect(url_for("inbox.my_tasks", **query.args()))


@blueprint.route("/tasks/filters/<id:filter_id>/delete", methods=["POST"])
@login_required
def delete_filter(filter_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        inbox_service.delete_filter(runtime(), current_user.actor, filter_id)
    except saved_filters.SavedFilterNotFound:
        abort(404)
    flash(_("Filter deleted."), "success")
    return redirect(url_for("inbox.my_tasks"))


@blueprint.route("/tasks/cc/<id:cc_id>/read", methods=["POST"])
@login_required
def read_copy(cc_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        inbox_service.read_copy(runtime(), current_user.actor, cc_id)
    except LookupError:
        abort(404)
    return redirect(url_for("inbox.my_tasks", view="cc"))


def act(actor, action: str, task_id: int, opinion: str = "", data: dict | None = None, to_step=None) -> None:
    """Run one task action through the tasks service."""
    given = tasks_service.TaskInput(opinion=opinion, data=data, to_step=to_step)
    tasks_service.act_on_task(runtime(), actor, action, task_id, given)


@blueprint.route("/tasks/<id:task_id>")
@login_required
def task(task_id: int):
    actor = current_user.actor
    try:
        detail = inbox.task_detail(runtime(), db.session, actor, task_id)
    except TaskNotFound:
        abort(404)
    if detail.copy_unread:  # opening a task copied to one reads the copy
        inbox_service.read_copies_of_task(runtime(), actor, task_id)
    if (
        detail.form_key == ORGANISATION_CORRECTION
        and detail.state == "open"
        and detail.item.assignee_id == actor.id
    ):
        # a returned organisation application reopens whole, on the applicant's own page
        return redirect(url_for("applications.correct", instance_id=detail.item.instance_id))
    form_class = form_catalog().get(detail.form_key)
    form = form_class(data=detail.data) if form_class and detail.state == "open" else None
    picker = None
    if form is not None and detail.form_key == PERSON_CORRECTION:  # the person may move to another employer
        region = request.args.get("region", detail.data.get("region_code") or "")
        picker = offer_employers(form.employer_id, region, request.args.get("q", ""))
    return render_template(
        "task.html",
        detail=detail,
        form=form,
        picker=picker,
        history=inbox.audit_trail(db.session, detail.item.instance_id),  # task_detail proved visibility
        action_labels=action_labels(),
        **task_view.task_page(runtime(), db.session, actor, detail, now()),
    )


@blueprint.route("/tasks/<id:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    return _act(task_id, lambda: act(current_user.actor, "claim", task_id), _("Claimed."))


@blueprint.route("/tasks/<id:task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: int):
    return _act(task_id, lambda: act(current_user.actor, "release", task_id), _("Released."))


@blueprint.route("/tasks/<id:task_id>/complete", methods=["POST"])
@login_required
def complete(task_id: int):
    try:
        detail = inbox.task_detail(runtime(), db.session, current_user.actor, task_id)
    except TaskNotFound:
        abort(404)
    if detail.form_key == ORGANISATION_CORRECTION and detail.item.assignee_id == current_user.actor.id:
        # corrected whole and checked like the first application, on its own page
        return redirect(url_for("applications.correct", instance_id=detail.item.instance_id))
    form = form_catalog()[detail.form_key]()
    action = request.form.get("action", "approve")
    if action not in ("approve", "return", "reject"):
        abort(400)
    if not form.validate_on_submit():
        flash(_("Please correct the form: %(errors)s", errors=_form_errors(form)), "error")
        return redirect(url_for("inbox.task", task_id=task_id))
    data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "opinion")}
    opinion = (form.data.get("opinion") or request.form.get("opinion") or "").strip()
    if action == "reject" and opinion and not confirmation.confirmed():
        back = url_for("inbox.task", task_id=task_id)
        message = confirmation.reject_message(detail.item.subject)
        return confirmation.confirm_page(_("Reject the application?"), message, _("Reject"), back)
    if detail.form_key == PERSON_CORRECTION and action == "approve":
        command = lambda: resubmit_person(runtime(), current_user.actor, task_id, data)  # noqa: E731
        return _act(task_id, command, _("Resubmitted for review."), go_to_list=True)
    command = lambda: act(current_user.actor, action, task_id, opinion, data)  # noqa: E731
    return _act(task_id, command, _("Done."), go_to_list=True)


def action_labels() -> dict[str, str]:
    """Return the audit actions in the user's language."""
    return {
        "start": _("started"),
        "submit": _("submitted"),
        "approve": _("approved"),
        "return": _("returned"),
        "reject": _("rejected"),
        "claim": _("claimed"),
        "unclaim": _("released"),
        "transfer": _("transferred"),
        "delegate": _("delegated"),
        "cc": _("sent a copy"),
        "resolve": _("resolved the delegation"),
        "withdraw": _("withdrew"),
        "resubmit": _("resubmitted"),
        "terminate": _("terminated"),
        "timer_fired": _("deadline reached"),
        "remind": _("reminded"),
        "escalate": _("escalated to the next level"),
        "countersign": _("added an approver (countersign)"),
        "countersign_approve": _("agreed as an added approver"),
        "reassign": _("reassigned"),
        "urge": _("urged"),
        "due_moved": _("moved the due date to the new holiday calendar"),
        "retry": _("retried the failed step"),
        "end_incident": _("ended the process after an incident"),
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
