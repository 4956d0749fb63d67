"""The incident page's forms: retry the chosen instances' failed steps, or end one instance with a reason."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError

from forms.ids import coerce_id
from forms.text import CleanText

MAX_RETRY = 100


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RetryForm(FlaskForm):
    """Retry the failed step of one or many listed instances."""

    instance_id = SelectMultipleField(_l("Instances"), coerce=coerce_id, validate_choice=False)

    def validate_instance_id(self, field) -> None:
        if not field.data or 0 in field.data or len(field.data) > MAX_RETRY:
            raise ValidationError(_l("Select from 1 to %(most)s instances.", most=MAX_RETRY))


class EndForm(FlaskForm):
    """End an instance whose step failed, for a stated reason."""

    reason = TextAreaField(
        _l("Reason for ending the process"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("Give the reason for ending the process.")),
            CleanText(1000, multiline=True),
        ],
    )
