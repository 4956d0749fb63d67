"""The form catalog: each user task's formKey names one WTForms class here."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length


class DemoApplicationForm(FlaskForm):
    """What an applicant fills in to start the demo approval."""

    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])


class ReviewForm(FlaskForm):
    """A review step: the decision buttons live on the page, the opinion here."""

    opinion = TextAreaField(_l("Opinion"), validators=[Length(max=2000)])


CATALOG = {
    "demo_application": DemoApplicationForm,
    "review": ReviewForm,
}


def form_catalog() -> dict:
    """Return the catalog: form key -> form class."""
    return dict(CATALOG)
