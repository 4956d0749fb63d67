"""The countersign (加签) table, its prebuilt statements, and the reads of open countersigns."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts import User
from domain.base import Base
from engine.prepared import Prepared

POSITIONS = ("before", "after")


class TaskCountersign(Base):
    """An approver added to a step: pending (not their turn yet), active (theirs now), done or cancelled."""

    __tablename__ = "task_countersign"
    __table_args__ = (
        # `open_user_id` is the user id while the row is pending or active and NULL after: one open
        # countersign per user and task, kept by the database even when two requests race.
        UniqueConstraint("human_task_id", "open_user_id"),
        Index("ix_task_countersign_task_state", "human_task_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    position: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int]
    open_user_id: Mapped[int | None]
    requested_by_id: Mapped[int]
    requested_at: Mapped[datetime]
    request_opinion: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    opinion: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None]


@dataclass
class Countersign:
    """An open countersign row as commands read it."""

    id: int
    position: str
    user_id: int
    requested_by_id: int
    state: str


TABLE = TaskCountersign.__table__
# Open rows are the ones holding open_user_id; read on every completion, so run on the bare driver.
OPEN_ROWS = Prepared(
    select(TABLE.c.id, TABLE.c.position, TABLE.c.user_id, TABLE.c.requested_by_id, TABLE.c.state)
    .where(TABLE.c.human_task_id == bindparam("task_id"), TABLE.c.open_user_id.is_not(None))
    .order_by(TABLE.c.id)
)
INSERT = insert(TABLE)
MOVE = Prepared(
    update(TABLE).where(TABLE.c.id == bindparam("row_id"), TABLE.c.state == bindparam("from_state"))
)
CLOSE_ALL = Prepared(
    update(TABLE)
    .where(TABLE.c.human_task_id == bindparam("task_id"), TABLE.c.open_user_id.is_not(None))
    .values(state="cancelled", open_user_id=None)
)


def open_countersigns(db, task_id: int) -> list[Countersign]:
    """Return a task's pending and active countersigns, oldest first."""
    return [Countersign(*found) for found in db.all(OPEN_ROWS, {"task_id": task_id})]


def active_of(current: list[Countersign], user_id: int) -> Countersign | None:
    """Return the countersign the user is working now, if any."""
    return next((c for c in current if c.state == "active" and c.user_id == user_id), None)


@dataclass(frozen=True)
class CountersignView:
    """An open countersign as the task page shows it."""

    position: str
    state: str
    user_id: int
    user_name: str
    requested_by_id: int
    requested_by_name: str
    request_opinion: str


def countersigns_of(session: Session, task_id: int) -> list[CountersignView]:
    """Return a task's open countersigns with the names of those involved, oldest first."""
    asked, by = User.__table__.alias("asked"), User.__table__.alias("by")
    rows = session.execute(
        select(
            TABLE.c.position,
            TABLE.c.state,
            TABLE.c.user_id,
            asked.c.display_name,
            TABLE.c.requested_by_id,
            by.c.display_name,
            TABLE.c.request_opinion,
        )
        .join(asked, asked.c.id == TABLE.c.user_id)
        .join(by, by.c.id == TABLE.c.requested_by_id)
        .where(TABLE.c.human_task_id == task_id, TABLE.c.open_user_id.is_not(None))
        .order_by(TABLE.c.id)
    )
    return [CountersignView(*row) for row in rows]
