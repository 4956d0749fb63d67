"""The number-range forms (号段, R5): how many numbers to allocate, and which number to void and why.

The form checks presence and type; whether the numbers are left and the number is voidable is the
domain's, shown as its refusal.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange

from domain.certificates.numbers import MAX_RANGE_SIZE


class AllocateRangeForm(FlaskForm):
    """Allocate the next numbers of the HRSS's prefix to one employer."""

    size = IntegerField(
        _l("How many numbers"),
        validators=[
            InputRequired(message=_l("Type how many numbers to allocate.")),
            NumberRange(1, MAX_RANGE_SIZE, message=_l("Allocate 1 to %(max)s numbers.")),
        ],
    )


class VoidNumberForm(FlaskForm):
    """Void one certificate number for a reason."""

    number = StringField(
        _l("Certificate number"),
        validators=[InputRequired(message=_l("Type the certificate number.")), Length(max=32)],
    )
    reason = TextAreaField(
        _l("Reason for voiding"),
        validators=[
            InputRequired(message=_l("Give the reason for voiding the number.")),
            Length(max=255, message=_l("Keep the reason within %(max)d characters.")),
        ],
    )
