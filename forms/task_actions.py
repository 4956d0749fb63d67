"""The task page's action forms: hand over, countersign, reassign, terminate, urge, copy, return, reject.

They parse input only; whether the actor may take the action, and whether it needs an opinion, is
the engine's decision (engine.tasks.permissions), so no rule is repeated here.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import SelectChoice
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from forms.ids import IdField
from forms.ids import coerce_id
from forms.text import CleanText


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class OpinionForm(FlaskForm):
    """An action that carries an opinion only (reject, terminate)."""

    opinion = TextAreaField(_l("Opinion"), filters=[_strip], default="")


class ReturnForm(OpinionForm):
    """Return to an earlier step; the applicant's first step when none is chosen."""

    to_step = StringField(_l("Return to step"), filters=[_strip, lambda v: v or None])


class HandOverForm(OpinionForm):
    """Transfer (转办), delegate (委派) or reassign (改派) to one user."""

    to_user_id = IdField(
        _l("Hand over to"), validators=[InputRequired(message=_l("Choose whom to give the task to."))]
    )


class CountersignForm(HandOverForm):
    """Add an approver before or after oneself (加签)."""

    position = RadioField(
        _l("When"),
        choices=[SelectChoice("before", _l("Before me")), SelectChoice("after", _l("After me"))],
        validators=[
            InputRequired(message=_l("Choose whether the added approver comes before or after you."))
        ],
    )


class UrgeForm(FlaskForm):
    """Urge (催办) the holder of a step, with an optional note."""

    note = StringField(_l("Note to the holder (optional)"), filters=[_strip], validators=[CleanText(200)])


class CopyForm(FlaskForm):
    """Copy a task for information (抄送) to some users, with an optional note."""

    to_user_ids = SelectMultipleField(_l("Copy to"), coerce=coerce_id, validate_choice=False)
    note = TextAreaField(
        _l("Note (optional)"), filters=[_strip], validators=[CleanText(1000, multiline=True)], default=""
    )


ACTION_FORMS = {
    "return": ReturnForm,
    "reject": OpinionForm,
    "transfer": HandOverForm,
    "delegate": HandOverForm,
    "reassign": HandOverForm,
    "countersign": CountersignForm,
    "terminate": OpinionForm,
    "urge": UrgeForm,
    "copy": CopyForm,
}
