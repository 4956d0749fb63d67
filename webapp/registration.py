"""Public registration pages: an organisation applies to its HRSS, a person to an employer."""

from flask import Blueprint
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from domain.identity import IdentifierError
from domain.registration import applications as registration
from domain.registration import choices as registration_choices
from domain.text import TextRefused
from engine.errors import EngineError
from forms.registration import OrganisationRegistrationForm
from forms.registration import PersonRegistrationForm
from services.registration import apply_as_person
from services.registration import apply_for_organisation
from webapp.errors import redisplays_expired_form
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain
from webapp.rate_limits import public_page
from webapp.rate_limits import public_submission

blueprint = Blueprint("registration", __name__, url_prefix="/register")


@blueprint.route("/organisation", methods=["GET", "POST"])
@redisplays_expired_form
@public_page
@public_submission
def organisation():
    form = OrganisationRegistrationForm()
    offer_organisation_choices(form, request.form.get("region_code"))
    if form.validate_on_submit():
        application = registration.OrganisationApplication(
            **organisation_values(form),
            admin_username=form.admin_username.data,
            admin_password=form.password.data,
        )
        if submitted(lambda: apply_for_organisation(runtime(), application)):
            flash(
                _("Your application was sent to the HRSS. Sign in with your username to follow it."),
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("register_organisation.html", form=form)


def organisation_values(form) -> dict:
    """Return what an organisation form says about the organisation (first application or correction)."""
    return {
        "kind": form.kind.data,
        "name": form.name.data,
        "region_code": form.region_code.data,
        "credit_code": form.credit_code.data,
        "admin_name": form.admin_name.data,
        "authority_id": form.authority_id.data or None,
        "industry": form.industry.data or None,
        "contact_phone": form.contact_phone.data or None,
        "expected_persons": form.expected_persons.data or 0,
    }


def offer_organisation_choices(form, region_code: str | None) -> None:
    """Fill an organisation form's regions and the authorities an employer in the region can belong to."""
    regions = registration_choices.region_choices(db.session)
    form.region_code.choices = [(c.value, c.label) for c in regions]
    authorities = registration_choices.authority_choices(db.session, region_code)
    form.authority_id.choices = [(0, _("(not an employer)"))] + [(c.value, c.label) for c in authorities]


@blueprint.route("/person", methods=["GET", "POST"])
@redisplays_expired_form
@public_page
@public_submission
def person():
    form = PersonRegistrationForm()
    picker = offer_employers(form.employer_id, request.args.get("region", ""), request.args.get("q", ""))
    if request.method == "POST" and form.validate_on_submit():
        application = registration.PersonApplication(
            id_number=form.id_number.data.strip(),
            name=form.name.data,
            employer_id=form.employer_id.data,
            title_level=form.title_level.data,
            title_series=form.title_series.data or "",
            password=form.password.data,
            certificate_number=(form.certificate_number.data or "").strip() or None,
            certificate_year=form.certificate_year.data or None,
        )
        if submitted(lambda: apply_as_person(runtime(), application)):
            flash(
                _("Your registration was sent to your employer. Sign in with your ID number to follow it."),
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("register_person.html", form=form, **picker)


def offer_employers(field, region: str, q: str) -> dict:
    """Fill an employer select from a region and part of a name; return the picker's state for the page.

    The employer already picked (by an earlier search, or the one a correction starts from) stays
    offered, whatever the search.
    """
    region, q = region.strip(), q.strip()
    regions = registration_choices.employer_regions(db.session)
    if region not in {r.code for r in regions}:
        region = ""
    found = registration_choices.employer_choices(db.session, region or None, q)
    choices = list(found.choices)
    picked = registration_choices.active_employer_choice(db.session, field.data or None)
    if picked is not None and picked not in choices:
        choices.insert(0, picked)
    field.choices = [(0, _("Choose your employer"))] + [(c.value, c.label) for c in choices]
    return {"regions": regions, "region": region, "q": q, "more": found.more}


@blueprint.route("/employers")
def employers():
    """Answer the employer picker: the active employers of a region whose name contains `q`, as JSON."""
    region = request.args.get("region", "").strip() or None
    found = registration_choices.employer_choices(db.session, region, request.args.get("q", ""))
    return jsonify(
        employers=[{"id": c.value, "name": c.label} for c in found.choices],
        more=found.more,
    )


def submitted(submit) -> bool:
    """Run a registration; show its refusal on the form and report whether it went through."""
    try:
        submit()
    except (IdentifierError, registration.RegistrationRefused, TextRefused, EngineError) as error:
        flash(explain(error), "error")
    else:
        return True
    return False
