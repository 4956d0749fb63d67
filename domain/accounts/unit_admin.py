"""The unit admin (系统管理员, R3): one per organisation, handed over on the record.

The admin rights are the organisation's `admin_user_id` together with the "admin" role. A handover
moves both: the successor gains them; the former admin loses them, keeps any other role (an
employer's admin usually also does the HR work) and, left with no role at all, is deactivated,
since such an account has nothing left to do and should not stay open after its holder moved on.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from domain.accounts.opening import UsernameTaken
from domain.accounts.opening import open_account
from domain.accounts.users import THROTTLE
from domain.accounts.users import AccountUnlock
from domain.accounts.users import Actor
from domain.accounts.users import AdminHandover
from domain.accounts.users import LoginAttempt
from domain.accounts.users import User
from domain.accounts.users import account_locked_until
from domain.accounts.users import set_password
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import organisation_filter
from domain.organisations.jurisdiction import person_filter
from domain.organisations.jurisdiction import scope_for
from domain.organisations.jurisdiction import visible_organisation
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.persons.records import Person
from domain.refusals import Refusal
from domain.text import clean_text

ADMIN_ROLE = "admin"
TEMPORARY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I


class NotUnitAdmin(PermissionError):
    """Only the organisation's current unit admin (or a system admin) may do this."""


class HandoverRefused(Refusal):
    """A handover that cannot be done; `code` and `params` say why."""


@dataclass(frozen=True)
class Colleague:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class NewAccount:
    """A user to create for a successor who has no account yet (given a temporary password)."""

    username: str
    display_name: str


@dataclass(frozen=True)
class HandedOver:
    """The new unit admin, and the temporary password of their account when it was just created."""

    successor_id: int
    successor_name: str
    username: str
    temporary_password: str | None = None


@dataclass(frozen=True)
class HandoverRecord:
    at: datetime
    from_name: str | None
    to_name: str
    by_name: str
    note: str


@dataclass(frozen=True)
class AdminPost:
    """An organisation seen from its admin page: who holds the post now."""

    organisation_id: int
    name: str
    kind: str
    admin_user_id: int | None


def admin_post(session: Session, actor: Actor, organisation_id: int | None = None) -> AdminPost:
    """Return the organisation whose admin the actor may hand over (their own by default).

    Raise NotVisible when there is no such organisation, NotUnitAdmin when the actor is neither
    its current unit admin nor a system admin.
    """
    org = _organisation(session, actor, organisation_id)
    return AdminPost(org.id, org.name, org.kind, org.admin_user_id)


def may_hand_over(actor: Actor, admin_user_id: int | None) -> bool:
    """Say whether the actor may hand over an organisation's admin post: its unit admin, a system admin."""
    return actor.is_admin or (admin_user_id is not None and admin_user_id == actor.id)


def _organisation(session: Session, actor: Actor, organisation_id: int | None, lock: bool = False):
    named = organisation_id is not None
    organisation_id = organisation_id if named else actor.organisation_id
    org = session.get(Organisation, organisation_id, with_for_update=lock) if organisation_id else None
    if org is None and not named and not actor.is_admin:
        raise NotUnitAdmin("only a unit admin hands over")
    if org is None or (named and not _sees_organisation(session, actor, org.id)):
        raise NotVisible(f"organisation {organisation_id}")  # outside the jurisdiction: 404 (R15)
    if not may_hand_over(actor, org.admin_user_id):
        raise NotUnitAdmin(f"user {actor.id} is not the unit admin of organisation {org.id}")
    return org


def _sees_organisation(session: Session, actor: Actor, organisation_id: int) -> bool:
    """Tell whether the organisation lies in the actor's jurisdiction (R15)."""
    condition = organisation_filter(scope_for(session, actor))
    return (
        session.scalar(select(Organisation.id).where(Organisation.id == organisation_id, condition))
        is not None
    )


def colleagues(session: Session, actor: Actor, organisation_id: int | None = None) -> list[Colleague]:
    """Return the active users of the organisation who could take over its admin."""
    org = _organisation(session, actor, organisation_id)
    rows = session.execute(
        select(User.id, User.username, User.display_name)
        .where(User.organisation_id == org.id, User.active.is_(True))
        .order_by(User.display_name, User.id)
    )
    return [Colleague(*row) for row in rows if row.id != org.admin_user_id]


def handover_history(session: Session, actor: Actor, organisation_id: int | None = None):
    """Return the organisation's handovers, newest first."""
    org = _organisation(session, actor, organisation_id)
    former, successor, by = aliased(User), aliased(User), aliased(User)
    rows = session.execute(
        select(
            AdminHandover.at,
            former.display_name,
            successor.display_name,
            by.display_name,
            AdminHandover.note,
        )
        .outerjoin(former, former.id == AdminHandover.from_user_id)
        .join(successor, successor.id == AdminHandover.to_user_id)
        .join(by, by.id == AdminHandover.by_user_id)
        .where(AdminHandover.organisation_id == org.id)
        .order_by(AdminHandover.at.desc(), AdminHandover.id.desc())
    )
    return [HandoverRecord(*row) for row in rows]


def temporary_password() -> str:
    """Return a random 12-character password without look-alike characters, to read out once."""
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(12))


def hand_over(
    session: Session,
    actor: Actor,
    successor: int | NewAccount,
    now: datetime,
    note: str = "",
    organisation_id: int | None = None,
    generate: Callable[[], str] = temporary_password,
) -> HandedOver:
    """Make another user of the organisation (or a new one) its unit admin, and record the handover."""
    org = _organisation(session, actor, organisation_id, lock=True)
    if org.status != OrganisationStatus.ACTIVE:
        raise HandoverRefused("organisation_not_active")
    password = generate() if isinstance(successor, NewAccount) else None
    heir = _successor(session, org, successor, now, password)
    former = session.get(User, org.admin_user_id) if org.admin_user_id else None
    if former is not None:
        former.roles = _without_role(former.roles, ADMIN_ROLE)
        former.active = former.active and bool(former.roles)
    heir.roles = _with_role(heir.roles, ADMIN_ROLE)
    org.admin_user_id = heir.id
    session.add(
        AdminHandover(
            organisation_id=org.id,
            from_user_id=former.id if former else None,
            to_user_id=heir.id,
            by_user_id=actor.id,
            at=now,
            note=clean_text(note, "note", 255, multiline=True),
        )
    )
    session.flush()
    return HandedOver(heir.id, heir.display_name, heir.username, password)


def _successor(session: Session, org: Organisation, successor, now: datetime, password: str | None) -> User:
    if isinstance(successor, NewAccount):
        return _create_colleague(session, org, successor, now, password)
    heir = session.get(User, successor)
    if heir is None or not heir.active or heir.organisation_id != org.id or heir.id == org.admin_user_id:
        raise HandoverRefused("no_such_colleague")
    return heir


def _create_colleague(session: Session, org: Organisation, account: NewAccount, now, password: str) -> User:
    username, name = account.username.strip(), account.display_name.strip()
    if not username or not name:
        raise HandoverRefused("name_missing")
    try:
        return open_account(session, username, password, name, now, organisation_id=org.id)
    except UsernameTaken as taken:
        raise HandoverRefused("username_taken", username=taken.username) from None


def _with_role(roles: str, role: str) -> str:
    held = [r for r in roles.split(",") if r]
    return ",".join(held if role in held else [role, *held])


def _without_role(roles: str, role: str) -> str:
    return ",".join(r for r in roles.split(",") if r and r != role)


@dataclass(frozen=True)
class PersonCard:
    """A person as the reset page names them: name and a masked ID number."""

    id: int
    name: str
    masked_id_number: str


def person_to_reset(session: Session, actor: Actor, person_id: int) -> PersonCard:
    """Return the person whose password the actor may reset; raise as reset_person_password does."""
    person, _user = _own_person(session, actor, person_id)
    return PersonCard(person.id, person.name, person.id_number[:4] + "*" * 10 + person.id_number[-4:])


def reset_person_password(
    session: Session,
    actor: Actor,
    person_id: int,
    now: datetime,
    generate: Callable[[], str] = temporary_password,
) -> str:
    """Give one of the employer's own persons a temporary password and return it, to show once.

    Raise NotUnitAdmin unless the actor is the unit admin of an employer, NotVisible when the
    person is not one of that employer's or has no account.
    """
    _person, user = _own_person(session, actor, person_id)
    password = generate()
    set_password(user, password, now)
    return password


def _own_person(session: Session, actor: Actor, person_id: int) -> tuple[Person, User]:
    employer_id = session.scalar(
        select(Organisation.id).where(
            Organisation.id == actor.organisation_id,
            Organisation.kind == OrganisationKind.EMPLOYER,
            Organisation.admin_user_id == actor.id,
        )
    )
    if employer_id is None:
        if session.scalar(
            select(Person.id).where(Person.id == person_id, person_filter(scope_for(session, actor)))
        ):
            raise NotUnitAdmin("only the unit admin of an employer resets its persons' passwords")
        raise NotVisible(f"person {person_id}")  # outside the jurisdiction: 404 (R15)
    person = session.scalar(select(Person).where(Person.id == person_id, Person.employer_id == employer_id))
    user = session.get(User, person.user_id) if person is not None and person.user_id else None
    if user is None:
        raise NotVisible(f"person {person_id}")
    return person, user


@dataclass(frozen=True)
class AccountView:
    """What the account page shows of the signed-in user and the admin post they hold."""

    id: int
    username: str
    display_name: str
    organisation_name: str | None
    is_unit_admin: bool
    resets_persons: bool  # the unit admin of an employer resets its persons' passwords


def account_view(session: Session, user_id: int) -> AccountView | None:
    """Return the account page's view of an active user, or None."""
    row = session.execute(
        select(User.id, User.username, User.display_name, Organisation)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == user_id, User.active.is_(True))
    ).first()
    if row is None:
        return None
    org = row.Organisation
    admin = org is not None and org.admin_user_id == row.id
    return AccountView(
        row.id,
        row.username,
        row.display_name,
        org.name if org else None,
        admin,
        admin and org.kind == OrganisationKind.EMPLOYER,
    )


@dataclass(frozen=True)
class LockedAccount:
    """An account locked out after failed sign-ins, as an unlock button names it."""

    user_id: int
    username: str
    display_name: str
    until: datetime


def unlock_account(session: Session, actor: Actor, user_id: int, now: datetime) -> str:
    """Lift an account's sign-in lockout on the record; return the account holder's name.

    Raise NotVisible when the account's organisation (a person's: their employer) lies outside the
    actor's jurisdiction, NotUnitAdmin when the actor sees it but is neither its unit admin, nor of
    the HRSS over it, nor a system admin.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotVisible(f"user {user_id}")
    _may_unlock(session, actor, _home_organisation(session, user.id, user.organisation_id))
    session.add(AccountUnlock(user_id=user.id, by_user_id=actor.id, at=now))
    session.flush()
    return user.display_name


def locked_accounts(
    session: Session,
    actor: Actor,
    now: datetime,
    organisation_id: int | None = None,
    person_id: int | None = None,
) -> list[LockedAccount]:
    """Return the locked accounts of an organisation (its staff and persons) or of one person.

    Only those the actor may unlock: none when the actor may not unlock that organisation's accounts.
    """
    if person_id is not None:
        organisation_id = session.scalar(select(Person.employer_id).where(Person.id == person_id))
        theirs = User.id == select(Person.user_id).where(Person.id == person_id).scalar_subquery()
    else:
        persons = select(Person.user_id).where(Person.employer_id == organisation_id)
        theirs = or_(User.organisation_id == organisation_id, User.id.in_(persons))
    try:
        _may_unlock(session, actor, organisation_id)
    except (NotVisible, NotUnitAdmin):
        return []
    recent = select(LoginAttempt.username).where(
        LoginAttempt.success.is_(False), LoginAttempt.at > now - THROTTLE.window - THROTTLE.lockout
    )
    rows = session.execute(
        select(User.id, User.username, User.display_name)
        .where(theirs, User.username.in_(recent))
        .order_by(User.display_name, User.id)
    )
    found = [(row, account_locked_until(session, row.username, now)) for row in rows]
    return [LockedAccount(*row, until) for row, until in found if until is not None]


def _home_organisation(session: Session, user_id: int, organisation_id: int | None) -> int | None:
    """Return the organisation an account belongs to: a staff member's, or a person's employer."""
    if organisation_id is not None:
        return organisation_id
    return session.scalar(select(Person.employer_id).where(Person.user_id == user_id))


def _may_unlock(session: Session, actor: Actor, organisation_id: int | None) -> None:
    if actor.is_admin:
        return
    if organisation_id is None:
        raise NotVisible("an account of no organisation")
    org = visible_organisation(session, actor, organisation_id)  # NotVisible outside the jurisdiction
    if org.admin_user_id != actor.id and actor.organisation_kind != OrganisationKind.HRSS:
        raise NotUnitAdmin(f"user {actor.id} may not unlock the accounts of organisation {org.id}")
