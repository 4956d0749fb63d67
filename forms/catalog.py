"""The form catalog: each user task's formKey names one WTForms class here."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import NumberRange
from wtforms.validators import Optional

from forms.choices import TITLE_LEVELS
from forms.courses import CourseFilingForm
from forms.text import CleanText


class DemoApplicationForm(FlaskForm):
    """What an applicant fills in to start the demo approval."""

    subject = StringField(_l("Subject"), validators=[DataRequired(), CleanText(200)])
    description = TextAreaField(_l("Description"), validators=[CleanText(4000, multiline=True)])


class ReviewForm(FlaskForm):
    """A review step: the decision buttons live on the page, the opinion here."""

    opinion = TextAreaField(_l("Opinion"), validators=[CleanText(2000, multiline=True)])


class OrganisationApplicationForm(FlaskForm):
    """The applicant's step of an organisation registration: correct and resubmit."""

    name = StringField(_l("Organisation name"), validators=[DataRequired(), CleanText(128)])
    contact_name = StringField(_l("Contact"), validators=[CleanText(64)])
    contact_phone = StringField(_l("Phone"), validators=[CleanText(32)])
    expected_persons = IntegerField(_l("Professionals employed"), validators=[Optional(), NumberRange(min=0)])


class PersonApplicationForm(FlaskForm):
    """The person's step of a registration: correct and resubmit (the ID number never changes).

    Another employer moves the application to that employer's HR; the domain checks it is an active
    employer (the choices are only the page's picker, the API sends an id).
    """

    employer_id = SelectField(_l("Employer"), coerce=int, validate_choice=False, validators=[Optional()])
    name = StringField(_l("Name"), validators=[DataRequired(), CleanText(64)])
    title_level = SelectField(_l("Title level"), choices=TITLE_LEVELS)
    title_series = StringField(_l("Title series"), validators=[CleanText(64)])


class AllocateRangeForm(FlaskForm):
    """The HRSS allocates a further certificate number range to an employer."""

    range_size = IntegerField(
        _l("Numbers to allocate"), default=100, validators=[DataRequired(), NumberRange(min=1, max=100_000)]
    )
    opinion = TextAreaField(_l("Opinion"), validators=[CleanText(2000, multiline=True)])


CATALOG = {
    "demo_application": DemoApplicationForm,
    "review": ReviewForm,
    "org_application": OrganisationApplicationForm,
    "person_application": PersonApplicationForm,
    "allocate_range": AllocateRangeForm,
    "course_filing": CourseFilingForm,
}


def form_catalog() -> dict:
    """Return the catalog: form key -> form class."""
    return dict(CATALOG)
