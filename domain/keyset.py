"""Keyset-paged lists ordered by (name, id): a page, the cursor of the next one, and counts per status.

`after` is the cursor "<id>:<name>" of the last row of the previous page, handed out with each page.
"""

from dataclasses import dataclass
from typing import Generic
from typing import TypeVar

from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_LIMIT = 200


class BadCursor(ValueError):
    """The `after` cursor of a list is not one this directory handed out."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, the cursor of the next page (None on the last), and counts per status."""

    items: tuple[T, ...]
    next_after: str | None
    status_counts: dict[str, int]


def after_cursor(after: str | None, name_column, id_column):
    """Return the keyset condition for rows after the cursor "<id>:<name>"."""
    if not after:
        return true()
    id_text, sep, name = after.partition(":")
    if not sep or not id_text.isdigit():
        raise BadCursor(f"{after!r} is not a list cursor")
    return or_(name_column > name, and_(name_column == name, id_column > int(id_text)))


def status_counts(session: Session, status_column, conditions) -> dict[str, int]:
    """Return how many rows meet the conditions, per status."""
    rows = session.execute(select(status_column, func.count()).where(*conditions).group_by(status_column))
    return {status: count for status, count in rows}


def fetch_page(session: Session, query, limit: int, make, counts: dict[str, int]) -> Page:
    """Return the first `limit` rows of the query (capped at MAX_LIMIT), each made into an item by `make`."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = session.execute(query.limit(limit + 1)).all()
    items = tuple(make(row) for row in rows[:limit])
    return Page(items, f"{items[-1].id}:{items[-1].name}" if len(rows) > limit else None, counts)
