"""Keyset pagination, the one way every list pages: an order of columns, its cursors, its seek, its page.

An order is a tuple of (column, descending) pairs whose last column is unique (an id). A page reads
one row more than it shows, with the order's columns appended; the cursor of the next page holds the
last shown row's values of those columns, and `seek` is the condition "after (or before) that row".
A cursor is URL-safe text: "<tag>_<value>_<value>…", times as microseconds, text with "%" and "_"
escaped; the tag names the list (an inbox sort) so a cursor of another list is refused.

`search` owns the sequence of a directory list (counts per status, the status filter, the planner's
treatment, the cursor, the order, the page); callers give their query, order and conditions.
Counts stop at COUNT_CAP + 1 ("more than COUNT_CAP"): a province HRSS sees some two million persons,
and counting them all on every page view would cost far more than the page itself.
"""

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Generic
from typing import TypeVar
from urllib.parse import unquote

from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Integer
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

T = TypeVar("T")
Order = tuple[tuple[object, bool], ...]  # (column, descending) pairs, the last one unique
MAX_LIMIT = 200
COUNT_CAP = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadCursor(ValueError):
    """A cursor is not one this list handed out (another list's, or forged)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, the cursor of the next page (None on the last), and its counts per status."""

    items: tuple[T, ...]
    next_cursor: str | None
    status_counts: dict[str, int] = field(default_factory=dict)  # each at most count_cap + 1
    count_cap: int | None = None  # a count above it reads "more than count_cap"; None: not counted
    previous_cursor: str | None = None  # read with `before`: the page ahead of this one (None on the first)


def encode_cursor(values: Sequence, tag: str = "") -> str:
    """Return the cursor after a row, given its values of the order's columns."""
    return "_".join([tag, *(_encoded(value) for value in values)])


def _encoded(value) -> str:
    if isinstance(value, datetime):
        return str((value - _EPOCH) // timedelta(microseconds=1))
    if isinstance(value, str):
        return value.replace("%", "%25").replace("_", "%5F")
    return str(value)


def decode_cursor(cursor: str | None, order: Order, tag: str = "") -> tuple | None:
    """Return the values a cursor holds (None for no cursor); raise BadCursor for one of another list."""
    if not cursor:
        return None
    parts = cursor.split("_")
    if parts[0] != tag or len(parts) != len(order) + 1:
        raise BadCursor(f"{cursor!r} is not a cursor of this list")
    try:
        return tuple(_decoded(column, raw) for (column, _), raw in zip(order, parts[1:], strict=True))
    except (ValueError, OverflowError) as bad:
        raise BadCursor(f"{cursor!r} is malformed") from bad


def _decoded(column, raw: str):
    if isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl_instance", None), DateTime):
        return _EPOCH + timedelta(microseconds=int(raw))
    if isinstance(column.type, Integer):
        return int(raw)
    return unquote(raw)


def seek(order: Order, values: Sequence, *, before: bool = False, bounded: bool = False):
    """Return the condition "after the row with these values" in the order (`before`: ahead of it).

    `values` are plain values or bound parameters (a statement built once takes k0, k1, ...).
    `bounded` leads with a bound on the first column, so an index on the order starts its range there.
    """
    steps = []
    for i, (column, descending) in enumerate(order):
        same = [c == value for (c, _), value in zip(order[:i], values, strict=False)]
        steps.append(and_(*same, column < values[i] if descending != before else column > values[i]))
    if not bounded:
        return or_(*steps)
    first, descending = order[0]
    return and_(first <= values[0] if descending != before else first >= values[0], or_(*steps))


def order_by(order: Order, *, reverse: bool = False) -> list:
    """Return the ORDER BY terms of an order (`reverse`: read backwards, for a page before a cursor)."""
    return [column.desc() if descending != reverse else column.asc() for column, descending in order]


def ordered(statement, order: Order):
    """Append the order's columns to a statement's columns, where `cut` reads the cursor from."""
    return statement.add_columns(*(column for column, _ in order))


def cut(rows: Sequence, limit: int, order: Order, make: Callable, tag: str = "") -> tuple[tuple, str | None]:
    """Split the rows of an `ordered` statement read with LIMIT limit + 1 into a page's items and next cursor.

    Each item is made by `make` from a row without the order's columns.
    """
    width = len(order)
    next_cursor = encode_cursor(rows[limit - 1][-width:], tag) if len(rows) > limit else None
    return tuple(make(row[:-width]) for row in rows[:limit]), next_cursor


def clamp(limit: int, most: int = MAX_LIMIT) -> int:
    """Return a page size between 1 and `most`."""
    return max(1, min(limit, most))


def search(
    session: Session,
    query,
    order: Order,
    conditions: Sequence,
    *,
    make: Callable,
    status_column=None,
    statuses: Sequence[str] = (),
    status: str | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
    plan: Callable[[list, dict[str, int]], list] | None = None,
) -> Page:
    """Return one page of a directory list, with its counts per status (which ignore `status`).

    The page follows the row of cursor `after`, or (`before`, a page's previous_cursor) ends just
    ahead of that row: read backwards in the same index, so going back costs what going on does.
    `plan(conditions, counts)` may rewrite the conditions for the planner once the counts are known
    (see Common); the cursor's seek is added after it, as it is.
    """
    backwards = bool(before) and not after
    values = decode_cursor(before if backwards else after, order)
    conditions = list(conditions)
    if status_column is None:  # a list without statuses: one count, capped the same way
        counts = {"all": capped_count(session, conditions)}
    else:
        counts = status_counts(session, status_column, conditions, statuses)
    if status:
        conditions.append(status_column == status)
    if plan is not None:
        conditions = plan(conditions, counts)
    if values is not None:
        conditions.append(seek(order, values, before=backwards))
    limit = clamp(limit)
    statement = ordered(query.where(*conditions), order).order_by(*order_by(order, reverse=backwards))
    rows = session.execute(statement.limit(limit + 1)).all()
    width = len(order)
    if backwards:
        more_ahead, rows = len(rows) > limit, rows[:limit][::-1]
        next_cursor = encode_cursor(rows[-1][-width:]) if rows else None  # the row we came from follows
        items = tuple(make(row[:-width]) for row in rows)
    else:
        more_ahead = values is not None
        items, next_cursor = cut(rows, limit, order, make)
    previous_cursor = encode_cursor(rows[0][-width:]) if more_ahead and rows else None
    return Page(items, next_cursor, counts, COUNT_CAP, previous_cursor)


def status_counts(
    session: Session, status_column, conditions, statuses, capped: bool = True
) -> dict[str, int]:
    """Return how many rows match per status, each up to COUNT_CAP + 1; statuses with none are left out.

    One statement: per status, a count over at most COUNT_CAP + 1 matching rows, so an index on
    (scope column, status) answers each with a short range read however large the scope is.
    With `capped` False (a detail page's exact figures over a bounded set), one grouped count.
    """
    if not capped:
        rows = session.execute(select(status_column, func.count()).where(*conditions).group_by(status_column))
        return {str(status): count for status, count in rows}
    counts = [
        select(func.count())
        .select_from(
            select(literal(1)).where(*conditions, status_column == value).limit(COUNT_CAP + 1).subquery()
        )
        .scalar_subquery()
        for value in statuses
    ]
    found = session.execute(select(*counts)).one()
    return {str(value): count for value, count in zip(statuses, found, strict=True) if count}


def capped_count(session: Session, conditions) -> int:
    """Return how many rows meet the conditions, up to COUNT_CAP + 1 (the conditions name every table)."""
    matching = select(literal(1)).where(*conditions).limit(COUNT_CAP + 1).subquery()
    return session.scalar(select(func.count()).select_from(matching))


def beyond_cap(counts: dict[str, int], status: str | None) -> bool:
    """Say whether more than COUNT_CAP rows match a list (all statuses, or the one it shows)."""
    return (counts.get(status, 0) if status else sum(counts.values())) > COUNT_CAP


class Common(ColumnElement):
    """Conditions most rows meet: on SQLite, wrapped in likely() so the planner reads the list's order index.

    SQLite keeps no statistics here, so it takes any index a condition can use, and then sorts every
    match. Told the conditions hold for most rows, it reads the (name, id) index in order and stops
    after a page. PostgreSQL plans from its statistics and gets the conditions as they are.
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]

    def __init__(self, *conditions):
        self.condition = and_(*conditions)


@compiles(Common)
def _as_they_are(element: Common, compiler, **kw) -> str:
    return compiler.process(element.condition, **kw)


@compiles(Common, "sqlite")
def _likely(element: Common, compiler, **kw) -> str:
    return f"likely({compiler.process(element.condition, **kw)})"


@dataclass(frozen=True)
class Position:
    """Where a page lies in its list: rows first to last (from 1) of total, and the starts of its neighbours.

    A keyset page knows no offset: the links carry the start of the page they lead to. The total is
    the capped count (`capped`: more than `total` match), so no page view ever counts a province.
    """

    first: int | None  # None when the start is unknown (a cursor reached without its start)
    last: int | None
    total: int
    capped: bool
    previous_start: int
    next_start: int


def position_of(page: Page, start: int, limit: int, status: str | None = None) -> Position:
    """Return the position of a page of `limit` rows that its link says starts after `start` rows."""
    counts = page.status_counts
    total = counts.get(status, 0) if status else sum(counts.values())
    cap = page.count_cap
    capped = cap is not None and total > cap
    start = 0 if page.previous_cursor is None else max(start, 0)
    known = page.previous_cursor is None or start > 0
    shown = len(page.items)
    return Position(
        first=start + 1 if known and shown else None,
        last=start + shown if known and shown else None,
        total=cap if capped else total,
        capped=capped,
        previous_start=max(start - limit, 0) if known else 0,
        next_start=start + shown if known else 0,
    )
