"""The applicant's pages (我的申请): their applications, each with its state, form, history and opinions.

A pending application can be withdrawn (撤回, after a confirmation); a returned one reopens for
correction. A unit admin whose organisation's application was rejected or terminated cannot sign
in, but after the right password reads here why, on a page limited to that.
"""

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session as browser_session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from domain.registration import review
from domain.registration.applications import OrganisationDetails
from engine.errors import EngineError
from engine.errors import TaskNotFound
from engine.inbox import applications as applicant_view
from engine.inbox import list_query
from engine.inbox import queries as inbox
from forms.registration import OrganisationCorrectionForm
from services.registration import resubmit_organisation
from services.registration import withdraw_application
from webapp import confirmation
from webapp.application_view import application_rows
from webapp.auth import CLOSED_APPLICATION
from webapp.extensions import db
from webapp.extensions import now
from webapp.extensions import runtime
from webapp.inbox import action_labels
from webapp.inbox import list_labels
from webapp.messages import explain
from webapp.registration import offer_organisation_choices
from webapp.registration import organisation_values
from webapp.registration import submitted

blueprint = Blueprint("applications", __name__)


@blueprint.route("/applications")
@login_required
def index():
    try:
        query = list_query.parse_query({"view": "started"})
        page = inbox.list_tasks(db.session, current_user.actor, query, now(), request.args.get("cursor"))
    except list_query.BadQuery:
        abort(400)
    return render_template("applications.html", page=page, **list_labels())


def _detail(instance_id: int) -> applicant_view.ApplicationDetail:
    try:
        return applicant_view.application_detail(runtime(), db.session, current_user.actor, instance_id)
    except TaskNotFound:
        abort(404)


@blueprint.route("/applications/<id:instance_id>")
@login_required
def detail(instance_id: int):
    found = _detail(instance_id)
    return render_template(
        "application.html",
        application=found,
        rows=application_rows(db.session, found.data),
        action_labels=action_labels(),
        withdraw_message=confirmation.withdraw_message(found.subject),
        **list_labels(),
    )


@blueprint.route("/applications/<id:instance_id>/withdraw", methods=["POST"])
@login_required
def withdraw(instance_id: int):
    found = _detail(instance_id)
    back = url_for("applications.detail", instance_id=instance_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    reason = (request.form.get("reason") or "").strip()[:500]
    if not confirmation.confirmed():
        message = confirmation.withdraw_message(found.subject)
        return confirmation.confirm_page(_("Withdraw the application?"), message, _("Withdraw"), back)
    try:
        withdraw_application(runtime(), current_user.actor, instance_id, reason)
    except TaskNotFound:
        abort(404)
    except EngineError as error:
        flash(explain(error), "error")
        return redirect(back)
    flash(_("Your application was withdrawn."), "success")
    return redirect(back)


@blueprint.route("/applications/<id:instance_id>/correct", methods=["GET", "POST"])
@login_required
def correct(instance_id: int):
    """Reopen a returned organisation application whole, prefilled, checked like the first application."""
    found = _detail(instance_id)
    key = found.business_key or ""
    if found.correction_task_id is None:
        flash(_("This application is not waiting for your correction."), "error")
        return redirect(url_for("applications.detail", instance_id=instance_id))
    if not key.startswith("organisation_id:"):
        return redirect(url_for("inbox.task", task_id=found.correction_task_id))
    facts = review.organisation_facts(db.session, int(key.split(":", 1)[1]))
    if facts is None:
        abort(404)
    form = OrganisationCorrectionForm(data=None if request.method == "POST" else _prefill(facts))
    offer_organisation_choices(form, request.form.get("region_code") or facts.region_code)
    if form.validate_on_submit():
        details = OrganisationDetails(**organisation_values(form))
        task_id = found.correction_task_id
        if submitted(lambda: resubmit_organisation(runtime(), current_user.actor, task_id, details)):
            flash(_("Resubmitted for review."), "success")
            return redirect(url_for("applications.detail", instance_id=instance_id))
    return render_template("application_correct.html", form=form, application=found)


def _prefill(facts: review.OrganisationFacts) -> dict:
    """Return the form's values from the organisation record as it stands."""
    return {
        "kind": facts.kind,
        "name": facts.name,
        "region_code": facts.region_code,
        "credit_code": facts.credit_code or "",
        "authority_id": facts.authority_id or 0,
        "industry": facts.industry or "",
        "expected_persons": facts.expected_persons,
        "admin_name": facts.admin_name or "",
        "contact_phone": facts.contact_phone or "",
    }


@blueprint.route("/login/application")
def closed():
    """Show a unit admin who gave the right password why their organisation's application is closed."""
    given = browser_session.get(CLOSED_APPLICATION)
    if not isinstance(given, dict) or "organisation_id" not in given:
        return redirect(url_for("auth.login"))
    facts = review.organisation_facts(db.session, int(given["organisation_id"]))
    if facts is None:
        return redirect(url_for("auth.login"))
    state = applicant_view.application_state(db.session, f"organisation_id:{facts.id}")
    return render_template(
        "application_closed.html", facts=facts, state=state, action_labels=action_labels(), **list_labels()
    )


@blueprint.route("/login/application/leave", methods=["POST"])
def leave_closed():
    """Forget the closed application and go back to the sign-in page."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    browser_session.pop(CLOSED_APPLICATION, None)
    return redirect(url_for("auth.login"))
