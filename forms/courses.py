"""The course filing form (课程备案): what a filer files, and corrects when the filing is returned."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DecimalField
from wtforms import IntegerField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import NumberRange

from domain.courses.filing import MAX_FEE_CENTS
from domain.courses.filing import MAX_HOURS
from forms.text import CleanText

SUBJECTS = [
    SelectChoice("public", _l("Public subject")),
    SelectChoice("professional", _l("Professional subject")),
]
MODES = [SelectChoice("online", _l("Online")), SelectChoice("face_to_face", _l("Face-to-face"))]
SUBJECT_LABELS = {choice.value: choice.label for choice in SUBJECTS}
MODE_LABELS = {choice.value: choice.label for choice in MODES}


class CourseFilingForm(FlaskForm):
    """A course as filed; the same fields reopen, prefilled, when a reviewer returns the filing."""

    title = StringField(_l("Course title"), validators=[DataRequired(), CleanText(128)])
    course_subject = SelectField(_l("Subject type"), choices=SUBJECTS)
    industry = StringField(_l("Industry (professional subjects)"), validators=[CleanText(64)])
    hours = IntegerField(_l("Hours"), validators=[InputRequired(), NumberRange(min=1, max=MAX_HOURS)])
    mode = SelectField(_l("Mode"), choices=MODES)
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    fee = DecimalField(
        _l("Fee per person (yuan)"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_FEE_CENTS / 100)],
    )
    description = TextAreaField(_l("Syllabus"), validators=[CleanText(4000, multiline=True)])


class RetireForm(FlaskForm):
    """Taking a course out of the catalogue: a reason, and a confirmation that it is meant."""

    reason = StringField(_l("Reason"), validators=[DataRequired(), CleanText(500)])
    confirm = BooleanField(_l("Yes, take this course out of the catalogue"), validators=[DataRequired()])


class PaymentForm(FlaskForm):
    """The institution confirms that the chosen enrolments' fees arrived, and how."""

    method = SelectField(
        _l("Paid by"),
        choices=[SelectChoice("transfer", _l("Bank transfer")), SelectChoice("online", _l("Online payment"))],
    )


class InvoiceNumberForm(FlaskForm):
    number = StringField(_l("Invoice number"), validators=[DataRequired(), CleanText(64)])


class InvoiceForm(FlaskForm):
    """The payer asks for an invoice."""

    title = StringField(_l("Invoice title"), validators=[DataRequired(), CleanText(128)])
    tax_id = StringField(_l("Taxpayer ID (for a company invoice)"), validators=[CleanText(32)])
