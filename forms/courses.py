"""The course filing form (课程备案): what a filer files, and corrects when the filing is returned."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms import IntegerField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import NumberRange

from domain.courses.filing import MAX_FEE_CENTS
from domain.courses.filing import MAX_HOURS
from forms.text import CleanText

SUBJECTS = [("public", _l("Public subject")), ("professional", _l("Professional subject"))]
MODES = [("online", _l("Online")), ("face_to_face", _l("Face-to-face"))]


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
