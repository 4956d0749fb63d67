"""Saved filters: named list queries one user keeps for their own inbox."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.users import Actor
from domain.base import Base
from domain.text import clean_text
from engine.inbox.list_query import BadQuery
from engine.inbox.list_query import ListQuery


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


class SavedFilterNotFound(LookupError):
    """No saved filter with this id belongs to the actor (shown as 404)."""


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
    name = clean_text(name, "name", 64)
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
