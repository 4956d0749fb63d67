"""The `<id:...>` route converter: a record id in a path is 1 to 2^31-1, anything else a 404."""

from werkzeug.routing import BaseConverter
from werkzeug.routing import ValidationError

from forms.ids import parse_id


class IdConverter(BaseConverter):
    """Match a record id in a path; a number the database cannot hold matches no route (404)."""

    regex = r"\d+"
    weight = 50  # as int: a fixed segment beside it still wins

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))
