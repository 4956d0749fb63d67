"""The policy calendar form: one year's deadlines and hour minimums of a city (R4, R10, R16).

The form checks only that each value is present and of its type; the rules between values (dates in
the year, order of the steps, ranges) are the domain's, so save_policy's problems are the ones shown.
"""

from collections.abc import Callable
from dataclasses import asdict
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import IntegerField
from wtforms.validators import InputRequired

from domain.calendar.policy import EDITABLE
from domain.calendar.policy import PolicyProblem
from domain.calendar.policy import PolicyView

LABELS = {
    "org_registration_deadline": _l("Organisations register by"),
    "person_registration_deadline": _l("Persons register by"),
    "review_working_days": _l("Working days to review a registration"),
    "public_hours_senior": _l("Public-subject hours, senior and intermediate titles"),
    "public_hours_junior": _l("Public-subject hours, junior titles"),
    "online_training_deadline_applicants": _l("Online training by, title applicants"),
    "online_training_deadline_others": _l("Online training by, others"),
    "certificate_deadline_applicants": _l("Certificate entry and audit by, title applicants"),
    "certificate_deadline_others": _l("Certificate entry and audit by, others"),
    "national_total_hours": _l("Total hours a year (public and professional subjects)"),
    "professional_share_percent": _l("Professional subjects' share of the total (%)"),
    "hour_unit_minutes": _l("Minutes in one class hour (学时)"),
}


def _date(name: str) -> DateField:
    return DateField(LABELS[name], validators=[InputRequired()])


def _number(name: str) -> IntegerField:
    return IntegerField(LABELS[name], validators=[InputRequired()])


class PolicyForm(FlaskForm):
    """A year's calendar; field names are the PolicyYear columns, so problems map onto fields."""

    org_registration_deadline = _date("org_registration_deadline")
    person_registration_deadline = _date("person_registration_deadline")
    review_working_days = _number("review_working_days")
    public_hours_senior = _number("public_hours_senior")
    public_hours_junior = _number("public_hours_junior")
    online_training_deadline_applicants = _date("online_training_deadline_applicants")
    online_training_deadline_others = _date("online_training_deadline_others")
    certificate_deadline_applicants = _date("certificate_deadline_applicants")
    certificate_deadline_others = _date("certificate_deadline_others")
    national_total_hours = _number("national_total_hours")
    professional_share_percent = _number("professional_share_percent")
    hour_unit_minutes = _number("hour_unit_minutes")

    def policy_values(self) -> dict:
        """Return the entered values keyed as save_policy expects."""
        return {name: self[name].data for name in EDITABLE}

    def show_problems(
        self, problems: list[PolicyProblem], explain: Callable[[PolicyProblem], str]
    ) -> list[str]:
        """Put each problem, worded by `explain`, next to its field; return the words no field owns."""
        unplaced = []
        for problem in problems:
            name, message = problem.params.get("field"), explain(problem)
            if name in self._fields and name != "csrf_token":
                self[name].errors = [*self[name].errors, message]
            else:
                unplaced.append(message)
        return unplaced


def initial_values(policy: PolicyView | None, year: int) -> dict:
    """Return a form's starting values: the year's calendar, or another year's moved into this one."""
    if policy is None:
        return {}
    values = {name: value for name, value in asdict(policy).items() if name in EDITABLE}
    return {
        name: _in_year(value, year) if isinstance(value, date) else value for name, value in values.items()
    }


def _in_year(day: date, year: int) -> date:
    if day.year == year:
        return day
    if (day.month, day.day) == (2, 29):
        return date(year, 2, 28)
    return day.replace(year=year)
