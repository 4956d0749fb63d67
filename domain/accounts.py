"""User accounts, their roles and the principals the inbox matches them by."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.base import Base
from domain.organisations import Organisation
from domain.persons import Person


class User(Base):
    """An account: an organisation's staff member or a person."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    roles: Mapped[str] = mapped_column(String(255), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


def user_principal(user_id: int) -> str:
    """Return the principal that names one user."""
    return f"u:{user_id}"


def group_principal(kind: str, region_code: str, role: str) -> str:
    """Return the principal of a role in the organisation of a kind in a region."""
    return f"g:{kind}:{region_code}:{role}"


@dataclass(frozen=True)
class Actor:
    """Who is acting: what commands and queries need to know of a signed-in user."""

    id: int
    name: str
    principals: tuple[str, ...]
    region_code: str | None = None
    organisation_id: int | None = None
    is_admin: bool = False
    organisation_kind: str | None = None
    person_id: int | None = None


def actor_for(session: Session, user_id: int) -> Actor | None:
    """Return the actor view of a user, or None when there is no such active user."""
    row = session.execute(
        select(User, Organisation.kind, Organisation.region_code)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == user_id, User.active.is_(True))
    ).first()
    if row is None:
        return None
    user, kind, region = row
    principals = [user_principal(user.id)]
    if kind is not None:
        principals += [group_principal(kind, region, role) for role in user.roles.split(",") if role]
    person_id = session.scalar(select(Person.id).where(Person.user_id == user.id))
    return Actor(
        user.id,
        user.display_name,
        tuple(principals),
        region,
        user.organisation_id,
        user.is_admin,
        kind,
        person_id,
    )
