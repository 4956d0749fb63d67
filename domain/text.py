"""Text a person types, however it enters (a form, the API, the CLI, an import): one check for all.

Names and usernames are shown to other people, written into workbooks and mails, and compared: a
NUL byte breaks PostgreSQL, a control character (ESC, BEL) reaches terminals and logs, and a
bidirectional override (U+202E) makes a name read differently from what it is. Such characters are
refused, not silently dropped, so the person sees what was wrong; the rest is normalised (Unicode
NFC, outer spaces trimmed) so that the same name typed twice is stored the same way.
"""

import re
import unicodedata

from domain.refusals import Refusal

# Refused: C0 and C1 controls (NUL, BEL, ESC…), line and paragraph separators, lone surrogates, and
# the characters that change how the text around them is displayed (bidirectional embeddings,
# overrides, isolates and marks). None has a place in a name, a username or a subject.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"  # all but tab and line feed
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
REFUSED_CHARACTER = re.compile(f"[\t\n{_CONTROLS}{_BIDI}]")
REFUSED_IN_LINES = re.compile(f"[{_CONTROLS}{_BIDI}]")
BIDI_CHARACTER = re.compile(f"[{_BIDI}]")


class TextRefused(Refusal):
    """Typed text that cannot be stored as it is; `code` says why, `params` where (`field`, `position`)."""


def clean_text(value, field: str, max_length: int, *, multiline: bool = False) -> str:
    """Return the text in NFC with its outer spaces trimmed; refuse hidden characters and overlong text.

    Raise TextRefused. `field` names the input for the caller (the API and the CLI show it);
    `multiline` lets an opinion or a note keep its line breaks and tabs. None is the empty text.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TextRefused("text_not_text", field=field)
    if multiline:
        value = value.replace("\r\n", "\n")
    found = (REFUSED_IN_LINES if multiline else REFUSED_CHARACTER).search(value)
    if found is not None:
        char, position = found.group(), found.start() + 1
        shown = f"U+{ord(char):04X}"
        if BIDI_CHARACTER.match(char):
            raise TextRefused("text_bidi_control", field=field, position=position, char=shown)
        raise TextRefused("text_control", field=field, position=position, char=shown)
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_length:
        raise TextRefused("text_too_long", field=field, most=max_length, length=len(text))
    return text


SORT_KEY_LENGTH = 255
_DIGITS = re.compile(r"[0-9]+")
_NUMBER_WIDTH = 10  # a run of digits is padded to this width: 第2 sorts before 第10


def sort_key(name: str) -> str:
    """Return a name's natural sort key: each run of digits zero-padded, so 第2中学 sorts before 第10中学.

    Stored beside the name and indexed with the id, it orders a directory in SQL the same way on
    SQLite and PostgreSQL (plain string comparison), and keyset paging seeks on it as on any column.
    """
    padded = _DIGITS.sub(lambda run: run.group().lstrip("0").rjust(_NUMBER_WIDTH, "0"), name or "")
    return padded[:SORT_KEY_LENGTH]


def sort_key_of_name(context) -> str:
    """Return the sort key of the row being inserted (a column default: Core inserts and bulk writes)."""
    return sort_key(context.get_current_parameters()["name"])
