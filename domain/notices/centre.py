"""The notice centre's queries: a user's notices, newest first, and which of them the user has read.

A notice goes to a principal ("u:<user>", "g:<kind>:<region>:<role>", "o:<org>:<role>"), so one row
may be shared by a whole group; whether it was read is kept per user in `notice_read`.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.users import Actor
from domain.base import Base
from domain.notices.records import Notice
from infra.clock import system_clock
from infra.keyset import Order
from infra.keyset import Page
from infra.keyset import clamp
from infra.keyset import cut
from infra.keyset import decode_cursor
from infra.keyset import order_by
from infra.keyset import ordered
from infra.keyset import seek

MAX_LIMIT = 100


class NoticeNotFound(LookupError):
    """The notice does not exist or is not addressed to the user (shown as 404)."""


class NoticeRead(Base):
    """That one user has read one notice, and when."""

    __tablename__ = "notice_read"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime]


@dataclass(frozen=True)
class NoticeItem:
    id: int
    kind: str
    title: str
    body: str
    instance_id: int | None
    task_id: int | None
    created_at: datetime
    read_at: datetime | None


NEWEST_FIRST: Order = ((Notice.id, True),)


def _read_by(actor: Actor):
    return (NoticeRead.notice_id == Notice.id) & (NoticeRead.user_id == actor.id)


def _addressed_to(actor: Actor):
    return Notice.recipient.in_(actor.principals)


def notices_for(
    session: Session, actor: Actor, after: str | None = None, limit: int = 30
) -> Page[NoticeItem]:
    """Return the notices addressed to any of the actor's principals, newest first, after the cursor.

    Raise BadCursor for a cursor this list did not hand out.
    """
    values = decode_cursor(after, NEWEST_FIRST)
    limit = clamp(limit, MAX_LIMIT)
    read_at = select(NoticeRead.at).where(_read_by(actor)).correlate(Notice).scalar_subquery()
    query = select(
        Notice.id,
        Notice.kind,
        Notice.title,
        Notice.body,
        Notice.instance_id,
        Notice.task_id,
        Notice.created_at,
        read_at,
    ).where(_addressed_to(actor))
    if values is not None:
        query = query.where(seek(NEWEST_FIRST, values))
    rows = session.execute(
        ordered(query, NEWEST_FIRST).order_by(*order_by(NEWEST_FIRST)).limit(limit + 1)
    ).all()
    return Page(*cut(rows, limit, NEWEST_FIRST, lambda row: NoticeItem(*row)))


def unread_count(session: Session, actor: Actor) -> int:
    """Return how many notices addressed to the actor the actor has not read."""
    return session.scalar(select(func.count()).where(_addressed_to(actor), ~exists().where(_read_by(actor))))


def mark_read(session: Session, actor: Actor, notice_id: int, now: datetime | None = None) -> bool:
    """Record that the actor read a notice addressed to them; return False when it was read already.

    Raise NoticeNotFound for a notice that is not the actor's: a group notice is read per user.
    """
    found = session.scalar(select(Notice.id).where(Notice.id == notice_id, _addressed_to(actor)))
    if found is None:
        raise NoticeNotFound(f"notice {notice_id}")
    if session.get(NoticeRead, (notice_id, actor.id)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(NoticeRead(notice_id=notice_id, user_id=actor.id, at=now or system_clock()))
    except IntegrityError:
        return False  # another request of the same user marked it at the same moment
    return True
