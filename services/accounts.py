"""Account use cases: sign in, change or reset a password, unlock an account, hand over the unit admin."""

from domain.accounts import unit_admin
from domain.accounts.unit_admin import HandedOver
from domain.accounts.unit_admin import NewAccount
from domain.accounts.users import Actor
from domain.accounts.users import begin_sign_in
from domain.accounts.users import change_password
from domain.accounts.users import check_credentials
from domain.accounts.users import check_new_password
from domain.accounts.users import normalise_username
from domain.accounts.users import succeed_sign_in
from domain.registration.applications import CLOSED
from domain.registration.applications import ApplicationNotActive
from domain.registration.applications import administered_application
from engine.runtime import Runtime
from engine.runtime import unit_of_work


def sign_in(rt: Runtime, typed_username: str, password: str, ip: str) -> int | None:
    """Check a sign-in against the throttle, then the password; return the user's id, or None.

    The one use case of more than one transaction, on purpose: the attempt is counted (as failed)
    and committed before the slow password check, so parallel guesses are all counted, and no
    write lock is held while argon2 works. Raise SignInLocked while the username or the address
    is locked out. The right password of a unit admin whose organisation's application was rejected
    or terminated raises ApplicationNotActive, so the page can say why instead of "wrong password";
    a wrong password says nothing about the account.
    """
    username = normalise_username(typed_username)
    with unit_of_work(rt) as session:
        attempt = begin_sign_in(session, username, ip, rt.clock())
    with unit_of_work(rt, write=False) as session:
        found = check_credentials(session, username, password)
        application = administered_application(session, found[0]) if found and not found[1] else None
    closed = application is not None and application[1] in CLOSED
    if found is None or not (found[1] or closed):
        return None
    with unit_of_work(rt) as session:
        succeed_sign_in(session, attempt)
    if not found[1]:
        raise ApplicationNotActive(found[0], application[0])
    return found[0]


def change_own_password(rt: Runtime, user_id: int, username: str, ip: str, current: str, new: str) -> None:
    """Change the user's password; a wrong current password counts as a failed sign-in.

    The attempt is committed before the change, like a sign-in's, so a refused change (wrong
    current password) still counts towards the lockout; raise AccountRefused or SignInLocked.
    """
    check_new_password(username, new)  # a weak new password is not a guess: refuse it before counting
    with unit_of_work(rt) as session:
        attempt = begin_sign_in(session, username, ip, rt.clock())
    with unit_of_work(rt) as session:
        change_password(session, user_id, current, new, rt.clock())
        succeed_sign_in(session, attempt)


def reset_person_password(rt: Runtime, actor: Actor, person_id: int) -> str:
    """Give one of the employer's persons a temporary password; return it, to be shown once."""
    with unit_of_work(rt) as session:
        return unit_admin.reset_person_password(session, actor, person_id, rt.clock())


def hand_over_unit_admin(
    rt: Runtime,
    actor: Actor,
    successor: int | NewAccount,
    note: str = "",
    organisation_id: int | None = None,
) -> HandedOver:
    """Make a colleague (or a new account) the organisation's unit admin, on the record."""
    with unit_of_work(rt) as session:
        return unit_admin.hand_over(session, actor, successor, rt.clock(), note, organisation_id)


def unlock_account(rt: Runtime, actor: Actor, user_id: int) -> str:
    """Lift an account's sign-in lockout before it ends, on the record; return the holder's name."""
    with unit_of_work(rt) as session:
        return unit_admin.unlock_account(session, actor, user_id, rt.clock())
