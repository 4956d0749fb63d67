"""Record ids a client sends (a path, a query string, a form field, a JSON body): 1 to the largest INTEGER.

Every id column is an Integer: 32 bits on PostgreSQL, 64 on SQLite. A larger number would reach
the database and fail there (PostgreSQL's "integer out of range", the driver's OverflowError past
2^63: a 500), so every id
from outside is read here first: `parse_id` for query strings and JSON, `coerce_id` for select boxes,
`IdField` for a typed id; the route converter (`webapp.ids`) uses `parse_id` too.
"""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

MAX_ID = 2**31 - 1  # the largest PostgreSQL INTEGER: the narrowest id column of the two databases
_MAX_DIGITS = len(str(MAX_ID))


def parse_id(value) -> int | None:
    """Return `value` (text of ASCII digits, or a JSON whole number) as a record id; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS):
            return None
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_ID else None


def coerce_id(value) -> int:
    """Coerce a select box's value to a record id, 0 meaning none chosen; a ValueError for anything else."""
    if value in (0, "0"):
        return 0
    number = parse_id(value)
    if number is None:
        raise ValueError(f"not a record id: {value!r}")
    return number


class IdField(IntegerField):
    """A record id posted as a number: 1 to MAX_ID, anything else is the field's error."""

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        self.data = parse_id(valuelist[0])
        if self.data is None:
            raise ValueError(_l("Choose one of the listed options."))
