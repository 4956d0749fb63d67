"""Score files (R8): read an institution's .xlsx or CSV of results row by row, and write the error report.

A file is read as a stream of rows, never as a whole sheet of cell objects: 100 000 rows fit in a few
tens of megabytes. The reader only checks the form of each cell (an ID number that adds up, a date, a
whole number of hours); what needs the database (the person, the enrolment, the course's hours and
year) is checked by `domain.courses.scores` in bulk. Formulas and merged cells are refused, naming the
cells: a formula's value is whatever the spreadsheet program last computed (openpyxl-written files carry
none), and a merged cell leaves the rows it spans blank, so neither can be trusted as a score.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from openpyxl import Workbook
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from domain.identity import IdNumberError
from domain.identity import parse_id_number
from domain.refusals import Refusal

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000  # data rows, the header apart
MAX_REPORTED = 10_000  # problems listed in one error report; the rest are counted
ID, NAME, SCORE, PASSED, HOURS, DATE = "身份证号", "姓名", "成绩", "是否合格", "学时", "完成日期"
HEADERS = (ID, NAME, SCORE, PASSED, HOURS, DATE)
# the error report is part of the file format, Chinese like the headers it names
REPORT_TITLE, REPORT_HEADERS = "错误报告", ("行号", "列", "原因")
PASSED_WORDS = {"是": True, "合格": True, "否": False, "不合格": False}
MAX_SCORE_LENGTH = 16
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell [^>]*ref="([A-Z0-9:]+)"')
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class ScoreFileRefused(Refusal):
    """A score file refused as a whole (not a spreadsheet, empty, too large, wrong headers)."""


class ScoreProblem(Refusal):
    """One reason a row is refused; `params` name the row (the header is row 1) and the column.

    Not raised alone: a file's problems are collected and refused together (`RowsRefused`).
    """

    @property
    def row(self) -> int:
        return self.params["row"]

    @property
    def column(self) -> str:
        return self.params["column"]

    @classmethod
    def of(cls, error: Refusal, row: int, column: str) -> "ScoreProblem":
        """Return a cell's refusal by another rule (an ID number's) as a problem of this row and column."""
        return cls(error.code, **error.params, row=row, column=column)


class RowsRefused(Refusal):
    """Some rows are bad, so the whole submission is refused; `problems` lists them (row, column, reason)."""

    def __init__(self, problems: list[ScoreProblem], submission_id: int | None = None):
        self.problems = problems
        super().__init__("score_rows_refused", count=len(problems), submission=submission_id)


@dataclass(frozen=True)
class ScoreLine:
    """One row as read, its cells checked in form only."""

    row: int
    id_number: str
    name: str
    score: str
    passed: bool
    hours: int
    completed_on: date
    result_id: str | None = None


def read_score_file(data: bytes, today: date) -> tuple[list[ScoreLine], list[ScoreProblem]]:
    """Read a score file's rows; return the well-formed lines and every cell-level problem found."""
    if len(data) > MAX_BYTES:
        raise ScoreFileRefused("score_file_too_large", size=f"{len(data) / 1024 / 1024:.1f}", limit=10)
    if not data.strip():
        raise ScoreFileRefused("score_file_empty")
    if data.startswith(_OLE):
        raise ScoreFileRefused("score_file_old_excel")
    rows = _xlsx_rows(data) if zipfile.is_zipfile(io.BytesIO(data)) else _csv_rows(data)
    return read_rows(rows, today)


def read_rows(rows: Iterator[tuple[int, list]], today: date) -> tuple[list[ScoreLine], list[ScoreProblem]]:
    """Check the header, then each row's cells; blank rows are skipped."""
    header = next(rows, None)
    if header is None:
        raise ScoreFileRefused("score_file_empty")
    positions = _positions(header[1])
    lines: list[ScoreLine] = []
    problems: list[ScoreProblem] = []
    for number, cells in rows:
        if number - 1 > MAX_ROWS:
            raise ScoreFileRefused("score_file_too_many_rows", limit=MAX_ROWS)
        values = [cells[i] if i < len(cells) else None for i in positions]
        if all(_blank(v) for v in values):
            continue
        if isinstance(cells, _Flagged):
            problems.extend(cells.problems)
            continue
        line = read_line(number, values, problems, today)
        if line is not None:
            lines.append(line)
    if not lines and not problems:
        raise ScoreFileRefused("score_file_empty")
    return lines, problems


def read_line(number: int, values: list, problems: list[ScoreProblem], today: date) -> ScoreLine | None:
    """Return one row's checked cells, or None after adding its problems (one per bad cell)."""
    found = len(problems)
    raw_id, raw_name, raw_score, raw_passed, raw_hours, raw_date = values[:6]
    id_number = _text(raw_id).replace(" ", "")
    try:
        id_number = parse_id_number(id_number, today).value
    except IdNumberError as bad:
        problems.append(ScoreProblem.of(bad, number, ID))
    name = _text(raw_name)
    if not name:
        problems.append(ScoreProblem("score_name_empty", row=number, column=NAME))
    score = _score_text(raw_score)
    if not score or len(score) > MAX_SCORE_LENGTH:
        problems.append(ScoreProblem("score_score", row=number, column=SCORE, value=score[:32]))
    passed = raw_passed if isinstance(raw_passed, bool) else PASSED_WORDS.get(_text(raw_passed))
    if passed is None:
        problems.append(ScoreProblem("score_passed", row=number, column=PASSED, value=_text(raw_passed)[:32]))
    hours = _whole(raw_hours)
    if hours is None or hours < 0:
        problems.append(
            ScoreProblem("score_hours_number", row=number, column=HOURS, value=_text(raw_hours)[:32])
        )
    completed_on = _day(raw_date)
    if completed_on is None:
        problems.append(
            ScoreProblem("score_date_format", row=number, column=DATE, value=_text(raw_date)[:32])
        )
    if len(problems) > found:
        return None
    return ScoreLine(number, id_number, name, score, passed, hours, completed_on)


def _positions(header: list) -> list[int]:
    names = [_text(cell) for cell in header]
    missing = [h for h in HEADERS if h not in names]
    unexpected = [n for n in names if n and n not in HEADERS]
    twice = sorted({n for n in names if n in HEADERS and names.count(n) > 1})
    if missing or unexpected or twice:
        raise ScoreFileRefused(
            "score_headers",
            missing="、".join(missing) or "-",
            unexpected="、".join(unexpected + twice) or "-",
            expected="、".join(HEADERS),
        )
    return [names.index(h) for h in HEADERS]


class _Flagged(list):
    """A row whose cells cannot be trusted (a formula, a merged range): it carries its problems."""

    def __init__(self, cells: list, problems: list[ScoreProblem]):
        super().__init__(cells)
        self.problems = problems


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as bad:
        raise ScoreFileRefused("score_file_not_spreadsheet") from bad
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise ScoreFileRefused("score_file_empty")
    merged = _merged_rows(data, getattr(sheet, "_worksheet_path", None))
    try:
        yield from _sheet_rows(sheet, merged)
    finally:
        book.close()


def _sheet_rows(sheet, merged: dict[int, list[str]]) -> Iterator[tuple[int, list]]:
    for number, row in enumerate(sheet.iter_rows(), start=1):
        cells = [cell.value for cell in row]
        problems = [
            ScoreProblem("score_formula", row=number, column=_column_name(cell.column), cell=cell.coordinate)
            for cell in row
            if cell.data_type == "f"
        ]
        problems += [
            ScoreProblem("score_merged", row=number, column="-", cells=ref) for ref in merged.get(number, ())
        ]
        yield number, (_Flagged(cells, problems) if problems and number > 1 else cells)


def _column_name(index: int | None) -> str:
    return get_column_letter(index) if index else "-"


def _merged_rows(data: bytes, path: str | None) -> dict[int, list[str]]:
    """Return the merged ranges of the sheet, by each row they span (openpyxl's read-only mode skips them)."""
    if not path:
        return {}
    found: dict[int, list[str]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path.lstrip("/")) as part:
        tail = b""
        while chunk := part.read(1 << 20):
            text = tail + chunk
            for match in _MERGE.finditer(text):
                ref = match.group(1).decode()
                numbers = [int(n) for n in re.findall(r"\d+", ref)]
                for row in range(min(numbers), max(numbers) + 1):
                    found.setdefault(row, []).append(ref)
            tail = text[-200:] if not text.endswith(b">") else b""
    return {row: sorted(set(refs)) for row, refs in found.items()}


def _csv_rows(data: bytes) -> Iterator[tuple[int, list]]:
    if b"\x00" in data[:4096]:
        raise ScoreFileRefused("score_file_not_spreadsheet")
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ScoreFileRefused("score_file_encoding")
    if _CONTROL.search(text[:4096]):  # binary data that happens to decode: not a text table
        raise ScoreFileRefused("score_file_not_spreadsheet")
    try:
        yield from enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    except csv.Error as bad:
        raise ScoreFileRefused("score_file_not_spreadsheet") from bad


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _score_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return _text(value)


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value)
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() and len(text) < 6 else None


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.fullmatch(_text(value))
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def error_report(problems: list[ScoreProblem], explain: Callable[[str, dict], str]) -> bytes:
    """Write the refusal's error report (.xlsx): row number, column and reason of each problem.

    `explain` turns a code and its values into the reader's words (the Babel catalogs, zh by default).
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(REPORT_TITLE)
    sheet.append(list(REPORT_HEADERS))
    ordered = sorted(problems, key=lambda p: (p.row, p.column))
    if len(ordered) > MAX_REPORTED:
        more = len(ordered) - MAX_REPORTED
        ordered = [
            *ordered[:MAX_REPORTED],
            ScoreProblem("score_report_more", row="-", column="-", count=more),
        ]
    for problem in ordered:
        sheet.append([problem.row, problem.column, explain(problem.code, problem.params)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
