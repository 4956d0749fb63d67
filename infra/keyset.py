"""Keyset-paged lists ordered by (name, id): a page, the cursor of the next one, and counts per status.

`after` is the cursor "<id>:<name>" of the last row of the previous page, handed out with each page.
Counts stop at COUNT_CAP + 1 ("more than COUNT_CAP"): a province HRSS sees some two million persons,
and counting them all on every page view would cost far more than the page itself.
"""

from dataclasses import dataclass
from typing import Generic
from typing import TypeVar

from sqlalchemy import Boolean
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

T = TypeVar("T")
MAX_LIMIT = 200
COUNT_CAP = 10_000


class BadCursor(ValueError):
    """The `after` cursor of a list is not one this directory handed out."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, the cursor of the next page (None on the last), and counts per status."""

    items: tuple[T, ...]
    next_after: str | None
    status_counts: dict[str, int]  # each at most count_cap + 1, which reads "more than count_cap"
    count_cap: int


def after_cursor(after: str | None, name_column, id_column):
    """Return the keyset condition for rows after the cursor "<id>:<name>"."""
    if not after:
        return true()
    id_text, sep, name = after.partition(":")
    if not sep or not id_text.isdigit():
        raise BadCursor(f"{after!r} is not a list cursor")
    return or_(name_column > name, and_(name_column == name, id_column > int(id_text)))


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


def beyond_cap(counts: dict[str, int], status: str | None) -> bool:
    """Say whether more than COUNT_CAP rows match a list (all statuses, or the one it shows)."""
    return (counts.get(status, 0) if status else sum(counts.values())) > COUNT_CAP


def fetch_page(session: Session, query, limit: int, make, counts: dict[str, int]) -> Page:
    """Return the first `limit` rows of the query (capped at MAX_LIMIT), each made into an item by `make`."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.execute(query.limit(limit + 1)).all()
    items = tuple(make(row) for row in rows[:limit])
    return Page(items, f"{items[-1].id}:{items[-1].name}" if len(rows) > limit else None, counts, COUNT_CAP)


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
