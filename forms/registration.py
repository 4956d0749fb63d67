"""Public registration forms: an organisation applying to its HRSS, a person applying to an employer."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from domain.identity import CreditCodeError
from domain.identity import parse_credit_code
from forms.choices import APPLYING_KINDS
from forms.choices import TITLE_LEVELS
from forms.ids import coerce_id
from forms.messages import DOMAIN_MESSAGES
from forms.text import CleanText


def valid_credit_code(form, field) -> None:
    """Refuse a malformed unified social credit code with its reason."""
    if field.data:
        try:
            parse_credit_code(field.data)
        except CreditCodeError as error:
            raise ValidationError(DOMAIN_MESSAGES[error.code] % error.params) from error


class AccountFields(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField(
        _l("Repeat the password"), validators=[EqualTo("password", message=_l("The two passwords differ."))]
    )


class OrganisationFields(FlaskForm):
    """What an authority, employer or institution tells its HRSS, and the reviewer checks (R1, R2)."""

    kind = SelectField(_l("Kind"), choices=APPLYING_KINDS)
    name = StringField(_l("Organisation name"), validators=[DataRequired(), CleanText(128)])
    region_code = SelectField(_l("Region"), validators=[DataRequired()])
    credit_code = StringField(
        _l("Unified social credit code"), validators=[DataRequired(), valid_credit_code]
    )
    authority_id = SelectField(
        _l("Industry authority"), coerce=coerce_id, validate_choice=False, validators=[Optional()]
    )
    industry = StringField(_l("Industry"), validators=[CleanText(32)])
    expected_persons = IntegerField(
        _l("Professionals employed"), default=0, validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )
    admin_name = StringField(_l("Unit admin's name"), validators=[DataRequired(), CleanText(64)])
    contact_phone = StringField(_l("Phone"), validators=[CleanText(32)])


class OrganisationRegistrationForm(OrganisationFields, AccountFields):
    """An authority, employer or institution applying to the HRSS of its region."""

    admin_username = StringField(
        _l("Unit admin's username"), validators=[DataRequired(), CleanText(64), Length(min=3)]
    )


class OrganisationCorrectionForm(OrganisationFields):
    """A returned organisation application, reopened whole: every field the reviewer may question."""


class PersonRegistrationForm(AccountFields):
    """A professional applying to the employer they work for."""

    # any active employer may be posted (the picker searches the server); the domain refuses the rest
    employer_id = SelectField(
        _l("Employer"),
        coerce=coerce_id,
        validate_choice=False,
        validators=[DataRequired(message=_l("Choose your employer."))],
    )
    id_number = StringField(_l("ID card number"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), CleanText(64)])
    # no level is preselected: a wrong default would pass unnoticed into the employer's review
    title_level = SelectField(
        _l("Title level"),
        choices=[SelectChoice("", _l("Choose your title level")), *TITLE_LEVELS],
        validators=[InputRequired(message=_l("Choose your title level."))],
    )
    title_series = StringField(_l("Title series"), validators=[CleanText(64)])
    certificate_year = SelectField(
        _l("Year it was issued"),
        coerce=int,
        choices=[SelectChoice(0, "—"), SelectChoice(2013, "2013"), SelectChoice(2014, "2014")],
        default=0,
    )
    certificate_number = StringField(
        _l("Certificate number issued in 2013 or 2014 (if any)"), validators=[Optional(), Length(max=32)]
    )
