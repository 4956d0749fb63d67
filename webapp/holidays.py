"""The holiday calendar page: administrators enter a year's holidays and make-up working days.

Saving a year moves the due dates of open tasks counted in working days; the page says how many
first (preview), and moves them only when the administrator confirms. Anyone else gets a 404.
"""

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from domain.calendar.deadlines import china_day
from domain.calendar.holidays import CalendarError
from domain.calendar.holidays import calendar_status
from domain.calendar.holidays import year_schedule
from forms.holidays import HolidayScheduleForm
from forms.holidays import schedule_text
from services.holidays import preview_year_schedule
from services.holidays import save_year_schedule
from webapp.errors import redisplays_expired_form
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain

blueprint = Blueprint("holidays", __name__, url_prefix="/holidays")
FIRST_YEAR = 2015


def _years() -> range:
    return range(FIRST_YEAR, china_day(runtime().clock()).year + 3)


@blueprint.route("", defaults={"year": None})
@blueprint.route("/<int:year>", methods=["GET", "POST"])
@redisplays_expired_form
@login_required
def schedule(year: int | None):
    if not current_user.actor.is_admin:
        abort(404)
    years = _years()
    year = year or years[-2]
    if year not in years:
        abort(404)
    form = HolidayScheduleForm(data=schedule_text(*year_schedule(db.session, year)))
    moved, problems = None, []
    if form.validate_on_submit():
        try:
            holidays, workdays = form.schedule(year)
            if form.confirmed.data == "1":
                done = save_year_schedule(runtime(), current_user.actor, year, holidays, workdays)
                flash(
                    _(
                        "The %(year)s holiday schedule was saved; due dates moved: %(count)d.",
                        year=year,
                        count=len(done),
                    ),
                    "success",
                )
                return redirect(url_for("holidays.schedule", year=year))
            moved = preview_year_schedule(runtime(), year, holidays, workdays)
        except CalendarError as error:
            problems = [explain(error), *(explain(problem) for problem in error.problems)]
    return render_template(
        "holidays.html",
        year=year,
        statuses=calendar_status(db.session, years),
        form=form,
        moved=moved,
        problems=problems,
    )
