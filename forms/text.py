"""The form side of domain.text: typed text is checked and normalised by the same rule as everywhere."""

from wtforms.validators import ValidationError

from domain.text import TextRefused
from domain.text import clean_text
from forms.messages import DOMAIN_MESSAGES


class CleanText:
    """Validate a text field with `domain.text.clean_text` and keep its normalised value (NFC, trimmed)."""

    def __init__(self, max_length: int, multiline: bool = False):
        self.max_length = max_length
        self.multiline = multiline
        self.field_flags = {"maxlength": max_length}

    def __call__(self, form, field) -> None:
        try:
            field.data = clean_text(field.data, field.name, self.max_length, multiline=self.multiline)
        except TextRefused as error:
            raise ValidationError(DOMAIN_MESSAGES[error.code] % error.params) from error
