"""Whom an approver can hand a task to: the active users of their own organisation."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.accounts.users import User


@dataclass(frozen=True)
class Colleague:
    id: int
    name: str


def colleagues_of(session: Session, actor: Actor) -> list[Colleague]:
    """Return the other active users of the actor's organisation, by name; none without an organisation."""
    if actor.organisation_id is None:
        return []
    rows = session.execute(
        select(User.id, User.display_name)
        .where(
            User.organisation_id == actor.organisation_id,
            User.active.is_(True),
            User.id != actor.id,
        )
        .order_by(User.display_name, User.id)
    )
    return [Colleague(*row) for row in rows]


def is_colleague(session: Session, actor: Actor, user_id: int) -> bool:
    """Say whether a user is another active member of the actor's organisation."""
    if actor.organisation_id is None or user_id == actor.id:
        return False
    found = session.scalar(
        select(User.id).where(
            User.id == user_id,
            User.organisation_id == actor.organisation_id,
            User.active.is_(True),
        )
    )
    return found is not None


def display_names(session: Session, user_ids) -> dict[int, str]:
    """Return the display names of the given users (unknown ids are left out)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}
