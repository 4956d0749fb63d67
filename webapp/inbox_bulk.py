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

from engine.errors import EngineError
from engine.inbox import queries as inbox
from forms.catalog import form_catalog
from webapp.extensions import db
from webapp.inbox import act
from webapp.inbox import safe_list_back
from webapp.messages import explain

blueprint = Blueprint("inbox_bulk", __name__)

BULK_ACTIONS = ("approve", "return")
MAX_BULK = 100


@dataclass(frozen=True)
class BulkResult:
    """What happened to one task of a bulk action."""

    task_id: int
    label: str
    ok: bool
    message: str


@blueprint.route("/tasks/bulk", methods=["POST"])
@login_required
def bulk():
    if not FlaskForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    if action not in BULK_ACTIONS:
        abort(400)
    back = safe_list_back(request.form.get("back")) or url_for("inbox.my_tasks")
    task_ids = request.form.getlist("task_id", type=int)
    if not task_ids or len(task_ids) > MAX_BULK:
        flash(_("Select from 1 to %(most)s tasks.", most=MAX_BULK), "error")
        return redirect(back)
    results = run_bulk(current_user.actor, action, task_ids, request.form.get("opinion", ""))
    done = sum(r.ok for r in results)
    flash(_("%(done)s of %(total)s done.", done=done, total=len(results)), "success" if done else "error")
    for failed in (r for r in results if not r.ok):
        flash(_("Not done: %(task)s: %(reason)s", task=failed.label, reason=failed.message), "error")
    return redirect(back)


def run_bulk(actor, action: str, task_ids: list[int], opinion: str) -> list[BulkResult]:
    """Act on each task in its own command: own transaction, own audit event; a failure undoes no other."""
    known = inbox.workable_summaries(db.session, actor, task_ids)
    results = []
    for task_id in dict.fromkeys(task_ids):
        label, form_key = known.get(task_id, (f"#{task_id}", None))
        if action == "approve" and form_key is not None and not opinion_only(form_key):
            results.append(BulkResult(task_id, label, False, _("This step has its own form: open it.")))
            continue
        try:
            act(actor, action, task_id, opinion.strip())
        except EngineError as error:
            results.append(BulkResult(task_id, label, False, explain(error)))
            continue
        results.append(BulkResult(task_id, label, True, _("Done.")))
    return results


def opinion_only(form_key: str) -> bool:
    """Say whether a step's form asks for nothing but an opinion, so it may be approved in bulk."""
    form_class = form_catalog().get(form_key)
    return form_class is not None and set(form_class(meta={"csrf": False})._fields) <= {"opinion"}
