"""User accounts, their roles and the principals the inbox matches them by."""

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from functools import cache

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.passwords import hash_password
from domain.accounts.passwords import verify_password
from domain.accounts.principals import group_principal
from domain.accounts.principals import org_principal
from domain.accounts.principals import user_principal
from domain.base import Base
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.refusals import Refusal


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
    # failed sign-ins before the last password change (or reset) no longer count towards a lockout
    password_changed_at: Mapped[datetime | None]


# a new account's username is checked free without regard to case (domain.accounts.opening): without
# this index each registration read every account, over a second with a province's two million
Index("ix_user_account_username_lower", func.lower(User.username))


class LoginAttempt(Base):
    """One sign-in attempt; the throttle counts these rows, so every web worker sees the same counts."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(45))
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    success: Mapped[bool] = mapped_column(default=False)


class AccountUnlock(Base):
    """An account unlocked before its lockout ended, by whom; failures before it no longer count."""

    __tablename__ = "account_unlock"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime]


class AdminHandover(Base):
    """A change of an organisation's unit admin (R3); rows are only ever added."""

    __tablename__ = "admin_handover"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    by_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(255), default="")


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
    # one query, on every request: the user, the organisation's kind and region, the person record
    row = session.execute(
        select(
            User.id,
            User.display_name,
            User.roles,
            User.organisation_id,
            User.is_admin,
            Organisation.kind,
            Organisation.region_code,
            Person.id,
        )
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .outerjoin(Person, Person.user_id == User.id)
        .where(User.id == user_id, User.active.is_(True))
    ).first()
    if row is None:
        return None
    user_id, display_name, roles, organisation_id, is_admin, kind, region, person_id = row
    principals = [user_principal(user_id)]
    if kind is not None:
        held = [role for role in roles.split(",") if role]
        principals += [group_principal(kind, region, role) for role in held]
        principals += [org_principal(organisation_id, role) for role in held]
    return Actor(user_id, display_name, tuple(principals), region, organisation_id, is_admin, kind, person_id)


MIN_PASSWORD_LENGTH = 8


class AccountRefused(Refusal):
    """A password change the account rules refuse; `code` and `params` say why."""


class SignInLocked(Exception):
    """Too many failed sign-ins: nobody signs in to this account (or from this address) until `until`.

    `by_address` says the address, not the account, is locked: it tried too many accounts, so
    unlocking the account does not help and only waiting does.
    """

    def __init__(self, until: datetime, by_address: bool = False):
        self.until = until
        self.by_address = by_address
        super().__init__(f"Too many failed sign-ins. Try again after {until.isoformat()}.")


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failed sign-ins within `window` lock an account or an address, and for how long.

    An account is locked from one address after `pair_failures` there, and from everywhere after
    `user_failures` from any addresses (guesses spread over many machines); an address is locked
    for every account after `ip_failures`, high enough that one office behind a NAT, whose staff
    mistype their own passwords, does not lock its colleagues out.
    """

    pair_failures: int = 5
    user_failures: int = 20
    ip_failures: int = 50
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    keep: timedelta = timedelta(days=1)  # attempts older than this are purged

    def __post_init__(self):
        if self.keep < self.window + self.lockout:
            raise ValueError("keep attempts at least for window + lockout, or a lockout is forgotten early")


THROTTLE = ThrottlePolicy()


def normalise_username(typed: str) -> str:
    """Return a typed username as stored: trimmed, an ID number's check character x as X (R18)."""
    name = typed.strip()
    if len(name) == 18 and name.endswith("x"):
        return name[:-1] + "X"
    return name


def lock_end(failures: list[datetime], threshold: int, window: timedelta, lockout: timedelta):
    """Return when a lockout ends: `lockout` after the last failure that made `threshold` in `window`."""
    ends = [
        failures[i] + lockout
        for i in range(threshold - 1, len(failures))
        if failures[i] - failures[i - threshold + 1] < window
    ]
    return max(ends, default=None)


def sign_in_lock(
    session: Session, username: str, ip: str, now: datetime, policy: ThrottlePolicy = THROTTLE
) -> SignInLocked | None:
    """Return the lockout that refuses this username from this address now, or None."""
    horizon = now - policy.window - policy.lockout
    mine = _failures(session, LoginAttempt.username == username, horizon, *_user_restart(session, username))
    account = _latest(
        lock_end(
            [at for at, at_ip in mine if at_ip == ip], policy.pair_failures, policy.window, policy.lockout
        ),
        lock_end([at for at, _ in mine], policy.user_failures, policy.window, policy.lockout),
    )
    from_address = [at for at, _ in _failures(session, LoginAttempt.ip == ip, horizon)]
    address = lock_end(from_address, policy.ip_failures, policy.window, policy.lockout)
    if account is not None and account > now and (address is None or account >= address):
        return SignInLocked(account)
    if address is not None and address > now:
        return SignInLocked(address, by_address=True)
    return None


def locked_until(
    session: Session, username: str, ip: str, now: datetime, policy: ThrottlePolicy = THROTTLE
) -> datetime | None:
    """Return until when sign-ins for this username from this address are refused, or None."""
    lock = sign_in_lock(session, username, ip, now, policy)
    return lock.until if lock else None


def account_locked_until(
    session: Session, username: str, now: datetime, policy: ThrottlePolicy = THROTTLE
) -> datetime | None:
    """Return until when the account is locked from at least one address, or None: what an unlock lifts."""
    horizon = now - policy.window - policy.lockout
    mine = _failures(session, LoginAttempt.username == username, horizon, *_user_restart(session, username))
    by_address: dict[str, list[datetime]] = {}
    for at, ip in mine:
        by_address.setdefault(ip, []).append(at)
    until = _latest(
        lock_end([at for at, _ in mine], policy.user_failures, policy.window, policy.lockout),
        *(lock_end(ats, policy.pair_failures, policy.window, policy.lockout) for ats in by_address.values()),
    )
    return until if until is not None and until > now else None


def _latest(*ends: datetime | None) -> datetime | None:
    return max((end for end in ends if end is not None), default=None)


def _failures(
    session: Session,
    who,
    horizon: datetime,
    after_id: int = 0,
    changed_at: datetime | None = None,
    unlocked_at: datetime | None = None,
) -> list[tuple[datetime, str]]:
    query = select(LoginAttempt.at, LoginAttempt.ip).where(
        who, LoginAttempt.success.is_(False), LoginAttempt.at > horizon, LoginAttempt.id > after_id
    )
    if changed_at is not None:
        query = query.where(LoginAttempt.at >= changed_at)
    if unlocked_at is not None:
        query = query.where(LoginAttempt.at > unlocked_at)
    return [(at, ip) for at, ip in session.execute(query.order_by(LoginAttempt.at, LoginAttempt.id))]


def _user_restart(session: Session, username: str) -> tuple[int, datetime | None, datetime | None]:
    """Return where the username's failure count starts again: its last success, password change, unlock.

    The success is found by row id, not time, so a failure in the same instant still counts.
    """
    last_success = session.scalar(
        select(func.max(LoginAttempt.id)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    )
    row = session.execute(
        select(User.password_changed_at, func.max(AccountUnlock.at))
        .outerjoin(AccountUnlock, AccountUnlock.user_id == User.id)
        .where(User.username == username)
        .group_by(User.id, User.password_changed_at)
    ).first()
    changed, unlocked = row if row is not None else (None, None)
    return last_success or 0, changed, unlocked


def begin_sign_in(
    session: Session, username: str, ip: str, now: datetime, policy: ThrottlePolicy = THROTTLE
) -> int:
    """Refuse a throttled sign-in, else record it as failed until the password proves right; return its id.

    Recording first (and committing before the password is checked) means a burst of parallel
    guesses is counted as it arrives, instead of slipping through before any failure is stored.
    """
    lock = sign_in_lock(session, username, ip, now, policy)
    if lock is not None:
        raise lock
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - policy.keep))
    attempt = LoginAttempt(ip=ip[:45], username=username[:64], at=now, success=False)
    session.add(attempt)
    session.flush()
    return attempt.id


def succeed_sign_in(session: Session, attempt_id: int) -> None:
    """Mark an attempt successful: the username's failure count starts again from it."""
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(success=True))


def authenticate(session: Session, username: str, password: str) -> int | None:
    """Return the id of the active user with this username and password, else None (as slowly either way)."""
    found = check_credentials(session, username, password)
    return found[0] if found is not None and found[1] else None


def check_credentials(session: Session, username: str, password: str) -> tuple[int, bool] | None:
    """Return (user id, whether the account is active) when the password is right, else None.

    One hash whatever the answer: an unknown or inactive username costs the same time as an active one.
    """
    row = session.execute(
        select(User.id, User.password_hash, User.active).where(User.username == username)
    ).first()
    if row is None:
        verify_password(_decoy_hash(), password)  # an unknown username costs the same time as a known one
        return None
    return (row.id, row.active) if verify_password(row.password_hash, password) else None


@cache
def _decoy_hash() -> str:
    return hash_password("a decoy that no account uses")


def check_new_password(username: str, password: str) -> None:
    """Refuse a password shorter than the minimum or equal to the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused("too_short", min=MIN_PASSWORD_LENGTH)
    if password.strip().lower() == username.strip().lower():
        raise AccountRefused("same_as_username")


def set_password(user: User, password: str, now: datetime) -> None:
    """Store a new password; failed sign-ins before it no longer count towards a lockout."""
    user.password_hash = hash_password(password)
    user.password_changed_at = now


def change_password(session: Session, user_id: int, current: str, new: str, now: datetime) -> None:
    """Replace a user's own password once the current one is proved and the new one passes the rules."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise AccountRefused("no_account")
    check_new_password(user.username, new)
    if not verify_password(user.password_hash, current):
        raise AccountRefused("wrong_password")
    if new == current:
        raise AccountRefused("unchanged")
    set_password(user, new, now)
