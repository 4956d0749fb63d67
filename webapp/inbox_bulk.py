"""The inbox's bulk actions: approve or return many listed tasks at once, each in its own command."""

from dataclasses import dataclass

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from engine.inbox import queries as inbox
from forms.ids import parse_id
from services import tasks as tasks_service
from services.tasks import BULK_ACTIONS
from webapp import confirmation
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.inbox import safe_list_back
from webapp.messages import explain
from webapp.messages import explain_reason

blueprint = Blueprint("inbox_bulk", __name__)

MAX_BULK = 100


@dataclass(frozen=True)
class BulkResult:
    """What happened to one task of a bulk action, said in the user's language; `reason` is the code."""

    task_id: int
    label: str
    ok: bool
    message: str
    reason: str | None = None


@blueprint.route("/tasks/bulk", methods=["POST"])
@login_required
def bulk():
    if not FlaskForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    if action not in BULK_ACTIONS:
        abort(400)
    back = safe_list_back(request.form.get("back")) or url_for("inbox.my_tasks")
    task_ids = [parse_id(given) for given in request.form.getlist("task_id")]
    if None in task_ids:
        abort(400)
    if not task_ids or len(task_ids) > MAX_BULK:
        flash(_("Select from 1 to %(most)s tasks.", most=MAX_BULK), "error")
        return redirect(back)
    if not confirmation.confirmed() and (action == "approve" or request.form.get("opinion", "").strip()):
        found = inbox.workable_summaries(db.session, current_user.actor, task_ids)
        labels = [found[task_id][0] if task_id in found else f"#{task_id}" for task_id in task_ids]
        title = _("Return the selected tasks?") if action == "return" else _("Approve the selected tasks?")
        button = _("Return selected") if action == "return" else _("Approve selected")
        message = confirmation.bulk_message(action, len(task_ids))
        return confirmation.confirm_page(title, message, button, back, labels)
    results = run_bulk(current_user.actor, action, task_ids, request.form.get("opinion", ""))
    done = sum(r.ok for r in results)
    flash(_("%(done)s of %(total)s done.", done=done, total=len(results)), "success" if done else "error")
    for failed in (r for r in results if not r.ok):
        flash(_("Not done: %(task)s: %(reason)s", task=failed.label, reason=failed.message), "error")
    return redirect(back)


def run_bulk(actor, action: str, task_ids: list[int], opinion: str) -> list[BulkResult]:
    """Act on each task through the tasks service and say what became of each."""
    outcomes = tasks_service.act_in_bulk(runtime(), actor, action, task_ids, opinion.strip())
    return [
        BulkResult(o.task_id, o.label, o.ok, _message(o, action), o.reason if not o.ok else None)
        for o in outcomes
    ]


def _message(outcome: tasks_service.BulkOutcome, action: str) -> str:
    if outcome.ok:
        return _("Done.")
    if outcome.error is not None:
        return explain(outcome.error)
    return explain_reason(outcome.reason, action=action)
