"""Opening a user account: the one place a new login gets its username checked and its password hashed.

Registration opens one for a new organisation's unit admin or for a person (whose username is the ID
number, R18); a handover opens one for a successor who has no account yet (R3).
"""

from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.passwords import hash_password
from domain.accounts.users import User
from domain.text import clean_text

USERNAME_LENGTH = 64
NAME_LENGTH = 64


class UsernameTaken(ValueError):
    """Another account already has this username (compared without regard to case)."""

    def __init__(self, username: str):
        self.username = username
        super().__init__(f"The username {username} is taken.")


def check_username_free(session: Session, username: str) -> None:
    """Raise UsernameTaken when an account already uses the username, in any case."""
    name = username.strip()
    if session.scalar(select(User.id).where(func.lower(User.username) == name.lower())):
        raise UsernameTaken(name)


def open_account(
    session: Session,
    username: str,
    password: str,
    display_name: str,
    now: datetime,
    organisation_id: int | None = None,
    roles: str = "",
) -> User:
    """Create an active account with a hashed password and return it (flushed, so it has an id).

    Raise TextRefused for a username or name that hides characters or is too long.
    """
    username = clean_text(username, "username", USERNAME_LENGTH)
    display_name = clean_text(display_name, "display_name", NAME_LENGTH)
    check_username_free(session, username)
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=display_name,
        organisation_id=organisation_id,
        roles=roles,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user
