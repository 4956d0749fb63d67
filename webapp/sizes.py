"""File sizes in the user's language: "12.3 kB", "10 MB", never a count of bytes nobody can read."""

from babel.units import format_unit
from flask_babel import get_locale

# binary steps, as file managers count; CLDR names the units ("kB", "MB") in each language
UNITS = (("digital-megabyte", 1024**2), ("digital-kilobyte", 1024), ("digital-byte", 1))


def file_size(size: int) -> str:
    """Return `size` (bytes) in the largest unit it reaches, with at most one decimal."""
    unit, step = next((unit, step) for unit, step in UNITS if size >= step or step == 1)
    return format_unit(size / step, unit, length="short", format="#,##0.#", locale=get_locale())
