"""The inbox's own records and the list query they keep: parameters, saved filters, keyset cursors."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts import Actor
from domain.base import Base
from domain.base import UtcDateTime
from engine.models import HELD_OPEN
from engine.models import HumanTask
from engine.models import HumanTaskCandidate
from engine.models import ProcessInstance
from engine.models import partial


class TaskCc(Base):
    """A copy of a task sent to a user or group for information (抄送); read once, acted on never."""

    __tablename__ = "task_cc"
    __table_args__ = (
        Index("ix_task_cc_inbox", "principal", "at", "id"),
        Index("ix_task_cc_unread", "principal", "read_at"),
        Index("ix_task_cc_task", "human_task_id", "principal", unique=True),  # one copy per reader
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    principal: Mapped[str] = mapped_column(String(64))
    by_user_id: Mapped[int | None]
    at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class SavedFilter(Base):
    """A named list query one user keeps for their own inbox."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    view: Mapped[str] = mapped_column(String(16))
    query: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


# Keyset scans of the lists' other sort orders (the due-date scans use engine.models' own indexes).
Index(
    "ix_human_task_assignee_created",
    HumanTask.assignee_id,
    HumanTask.created_at,
    HumanTask.id,
    **partial(HELD_OPEN),
)
Index(
    "ix_human_task_assignee_priority",
    HumanTask.assignee_id,
    HumanTask.priority.desc(),
    HumanTask.due_sort,
    HumanTask.id,
    **partial(HELD_OPEN),
)
# A queue sorted by priority has no index of its own: PostgreSQL took a (principal, priority, due_sort)
# one for due-filtered queue pages, scanning and sorting the whole due window in parallel (19 ms
# against 1.5 ms reading ix_candidate_queue in order). That sort reads the queue rows alone instead.
Index(
    "ix_candidate_queue_created",
    HumanTaskCandidate.principal,
    HumanTaskCandidate.created_at,
    HumanTaskCandidate.human_task_id,
)
Index(
    "ix_process_instance_started",
    ProcessInstance.initiator_id,
    ProcessInstance.created_at,
    ProcessInstance.id,
)

VIEWS = ("mine", "queue", "done", "started", "cc")
SORTS = {
    "mine": ("due", "created", "priority"),
    "queue": ("due", "created", "priority"),
    "done": ("completed",),
    "started": ("created",),
    "cc": ("copied",),
}
MAX_DUE_WITHIN_DAYS = 366
_REGION = re.compile(r"^\d{6}$")


class BadQuery(ValueError):
    """A list parameter or cursor is malformed; the message names which."""


class SavedFilterNotFound(LookupError):
    """No saved filter with this id belongs to the actor (shown as 404)."""


@dataclass(frozen=True)
class Filters:
    """What narrows a list; None or False means no filter."""

    process: str | None = None
    region: str | None = None
    organisation: int | None = None
    applicant: str | None = None
    overdue: bool = False
    due_within: int | None = None
    created_from: date | None = None
    created_to: date | None = None

    def any(self) -> bool:
        """Say whether any filter is set."""
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ListQuery:
    """One inbox list as the user asked for it: which view, filtered how, in which order."""

    view: str = "mine"
    sort: str = "due"
    filters: Filters = field(default_factory=Filters)

    def args(self) -> dict[str, str]:
        """Return the query-string parameters that ask for this list again (defaults left out)."""
        found = {"view": self.view}
        if self.sort != SORTS[self.view][0]:
            found["sort"] = self.sort
        for f in fields(self.filters):
            value = getattr(self.filters, f.name)
            if value:
                found[f.name] = "1" if value is True else str(value)
        return found


def parse_query(args: Mapping[str, str]) -> ListQuery:
    """Read a list query from request parameters; empty boxes are no filter; raise BadQuery."""
    view = args.get("view") or "mine"
    if view not in VIEWS:
        raise BadQuery(f"unknown view {view!r}")
    sort = args.get("sort") or SORTS[view][0]
    if sort not in SORTS[view]:
        raise BadQuery(f"the {view} list cannot be sorted by {sort!r}")
    text = {key: (args.get(key) or "").strip() or None for key in ("process", "region", "applicant")}
    if text["region"] and not _REGION.match(text["region"]):
        raise BadQuery("region must be a six-digit region code")
    filters = Filters(
        process=text["process"],
        region=text["region"],
        organisation=_number(args, "organisation", 1, 2**31),
        applicant=text["applicant"][:64] if text["applicant"] else None,
        overdue=(args.get("overdue") or "") in ("1", "true", "on", "yes"),
        due_within=_number(args, "due_within", 1, MAX_DUE_WITHIN_DAYS),
        created_from=_date(args, "created_from"),
        created_to=_date(args, "created_to"),
    )
    return ListQuery(view, sort, filters)


def _number(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadQuery(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _date(args: Mapping[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as bad:
        raise BadQuery(f"{name} must be a date as YYYY-MM-DD") from bad


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Order = tuple[tuple[object, bool], ...]  # (column, descending) pairs, the last one unique


def encode_cursor(sort: str, values) -> str:
    """Return the cursor after a row, given its sort keys; times as microseconds, so it is URL-safe."""
    return "_".join([sort, *(str(_micros(v) if isinstance(v, datetime) else v) for v in values)])


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def decode_cursor(cursor: str | None, sort: str, order: Order) -> tuple | None:
    """Return the sort-key values a cursor names, or raise BadQuery for one of another list or forged."""
    if not cursor:
        return None
    parts = cursor.split("_")
    if parts[0] != sort or len(parts) != len(order) + 1:
        raise BadQuery("the cursor does not belong to this list")
    try:
        return tuple(_value(column, raw) for (column, _), raw in zip(order, parts[1:], strict=True))
    except (ValueError, OverflowError) as bad:
        raise BadQuery("the cursor is malformed") from bad


def _value(column, raw: str):
    number = int(raw)
    if isinstance(column.type, UtcDateTime):
        return _EPOCH + timedelta(microseconds=number)
    return number


@dataclass(frozen=True)
class SavedFilterView:
    """A saved filter as pages and the API show it."""

    id: int
    name: str
    view: str
    query: dict
    created_at: datetime


def save_filter(session: Session, actor: Actor, name: str, query: ListQuery, now: datetime) -> int:
    """Keep a list query under a name for the actor (the same name replaces the old one); return its id."""
    name = name.strip()[:64]
    if not name:
        raise BadQuery("a saved filter needs a name")
    found = session.scalar(
        select(SavedFilter).where(SavedFilter.user_id == actor.id, SavedFilter.name == name)
    )
    if found is None:
        found = SavedFilter(user_id=actor.id, name=name, created_at=now)
        session.add(found)
    found.view, found.query = query.view, query.args()
    session.flush()
    return found.id


def saved_filters(session: Session, actor: Actor) -> list[SavedFilterView]:
    """Return the actor's saved filters by name."""
    rows = session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == actor.id).order_by(SavedFilter.name, SavedFilter.id)
    )
    return [SavedFilterView(r.id, r.name, r.view, dict(r.query), r.created_at) for r in rows]


def saved_filter(session: Session, actor: Actor, filter_id: int) -> SavedFilterView:
    """Return one of the actor's saved filters, or raise SavedFilterNotFound (another user's too)."""
    found = session.get(SavedFilter, filter_id)
    if found is None or found.user_id != actor.id:
        raise SavedFilterNotFound(f"saved filter {filter_id}")
    return SavedFilterView(found.id, found.name, found.view, dict(found.query), found.created_at)


def delete_filter(session: Session, actor: Actor, filter_id: int) -> None:
    """Delete one of the actor's saved filters, or raise SavedFilterNotFound."""
    found = session.get(SavedFilter, filter_id)
    if found is None or found.user_id != actor.id:
        raise SavedFilterNotFound(f"saved filter {filter_id}")
    session.delete(found)
    session.flush()


def mark_cc_read(session: Session, actor: Actor, cc_id: int, now: datetime) -> bool:
    """Mark a copy addressed to one of the actor's principals read; False if it already was.

    Raise LookupError for a copy that is not the actor's.
    """
    mine = select(TaskCc.read_at).where(TaskCc.id == cc_id, TaskCc.principal.in_(actor.principals))
    found = session.execute(mine).first()
    if found is None:
        raise LookupError(f"copy {cc_id}")
    if found.read_at is not None:
        return False
    session.execute(update(TaskCc).where(TaskCc.id == cc_id, TaskCc.read_at.is_(None)).values(read_at=now))
    return True
