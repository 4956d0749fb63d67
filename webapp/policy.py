"""The policy calendar of the user's city: this year's and next year's deadlines and hour minimums.

Only the city HRSS edits it (R4, R16); everyone else, county HRSS included, sees it read-only.
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

from domain.calendar.deadlines import china_day
from domain.calendar.policy import PolicyError
from domain.calendar.policy import PolicyUnconfirmed
from domain.calendar.policy import policy_for
from domain.organisations import directory
from forms.policy import LABELS
from forms.policy import PolicyForm
from forms.policy import initial_values
from services.policy import save_city_policy
from webapp.errors import redisplays_expired_form
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain

blueprint = Blueprint("policy", __name__, url_prefix="/policy")


def _years() -> tuple[int, int]:
    this_year = china_day(runtime().clock()).year
    return this_year, this_year + 1


@blueprint.route("", defaults={"year": None})
@blueprint.route("/<int:year>", methods=["GET", "POST"])
@redisplays_expired_form
@login_required
def calendar(year: int | None):
    years = _years()
    year = year or years[0]
    if year not in years:
        abort(404)
    home = directory.home_of(db.session, current_user.actor)
    if request.method == "POST" and not home.is_city_hrss:
        abort(403)
    policy = policy_for(db.session, year, home.city_code) if home.city_code else None
    form, problems, to_confirm = None, None, None
    if home.is_city_hrss:
        earlier = policy or policy_for(db.session, year - 1, home.city_code)
        form = PolicyForm(data=initial_values(earlier, year))
        if form.validate_on_submit():
            problems, to_confirm = _save(form, year, home.city_code, request.form.get("confirmed"))
            if problems is None:
                flash(_("The %(year)s calendar was saved.", year=year), "success")
                return redirect(url_for("policy.calendar", year=year))
    return render_template(
        "policy.html",
        year=year,
        years=years,
        home=home,
        policy=policy,
        form=form,
        refused=problems is not None and to_confirm is None,
        to_confirm=to_confirm,
        problems=problems or [],
        labels=LABELS,
    )


def _save(form: PolicyForm, year: int, city_code: str, confirmed: str | None):
    """Save the city's calendar in one transaction.

    Return (None, None) when saved; else the problems no field shows, and the key that confirms
    the warnings when only warnings stood in the way.
    """
    try:
        save_city_policy(runtime(), current_user.actor, year, city_code, form.policy_values(), confirmed)
    except PolicyUnconfirmed as unconfirmed:
        return form.show_problems(unconfirmed.problems, explain), unconfirmed.key
    except PolicyError as error:
        return form.show_problems(error.problems, explain), None
    return None, None
