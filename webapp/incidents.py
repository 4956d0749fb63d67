"""Incidents (异常事件): the administrators' list of failed steps, retrying them, ending an instance.

Only administrators see these pages; for anyone else they do not exist (404), like a record outside
one's jurisdiction.
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

from domain.organisations.jurisdiction import NotVisible
from engine.errors import EngineError
from engine.errors import TaskNotFound
from engine.tasks.incidents import incidents_for
from forms.incidents import EndForm
from forms.incidents import RetryForm
from infra import keyset
from services.incidents import end_incident_instance
from services.incidents import retry_incidents
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain

blueprint = Blueprint("incidents", __name__, url_prefix="/incidents")
STATES = ("open", "resolved")


@blueprint.route("")
@login_required
def index():
    state = request.args.get("state", "open")
    if state not in (*STATES, "all"):
        abort(404)
    try:
        page = incidents_for(
            db.session,
            current_user.actor,
            after=request.args.get("after"),
            state=None if state == "all" else state,
        )
    except NotVisible:
        abort(404)
    except keyset.BadCursor:
        abort(400)
    return render_template("incidents.html", page=page, state=state, retry_form=RetryForm())


@blueprint.route("/retry", methods=["POST"])
@login_required
def retry():
    _admin_only()
    form = RetryForm()
    if not form.validate_on_submit():
        flash(_problems(form), "error")
        return redirect(url_for("incidents.index"))
    outcomes = retry_incidents(runtime(), current_user.actor, form.instance_id.data)
    done = sum(o.ok for o in outcomes)
    flash(_("%(done)s of %(total)s retried.", done=done, total=len(outcomes)), "success" if done else "error")
    for failed in (o for o in outcomes if not o.ok):
        flash(_("Instance %(id)s: %(reason)s", id=failed.instance_id, reason=explain(failed.error)), "error")
    return redirect(url_for("incidents.index"))


@blueprint.route("/<id:instance_id>/end", methods=["POST"])
@login_required
def end(instance_id: int):
    _admin_only()
    form = EndForm()
    if not form.validate_on_submit():
        flash(_problems(form), "error")
        return redirect(url_for("incidents.index"))
    try:
        end_incident_instance(runtime(), current_user.actor, instance_id, form.reason.data)
    except TaskNotFound:
        abort(404)
    except EngineError as error:
        flash(explain(error), "error")
        return redirect(url_for("incidents.index"))
    flash(_("Process instance %(id)s was ended.", id=instance_id), "success")
    return redirect(url_for("incidents.index"))


def _admin_only() -> None:
    """Answer 404 before reading a form: for anyone but an administrator the actions do not exist."""
    if not current_user.actor.is_admin:
        abort(404)


def _problems(form) -> str:
    return "; ".join(str(error) for errors in form.errors.values() for error in errors)
