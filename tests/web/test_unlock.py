"""Unlocking an account locked out after failed sign-ins: who may, from which page, on the record."""

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.accounts.users import AccountUnlock
from domain.accounts.users import User
from seed.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_token
from tests.web.test_auth import HOSPITAL
from tests.web.test_auth import NURSE_ID
from tests.web.test_auth import add_person
from tests.web.test_auth import text
from tests.web.test_auth import try_sign_in


@pytest.fixture(autouse=True)
def frozen_clock(app, clock):
    app.extensions["ceflow.runtime"].clock = clock
    return clock


def lock_out(app, username: str) -> None:
    """Fail five sign-ins of the account from one browser: it is locked from that address."""
    stranger = app.test_client()
    for _ in range(5):
        try_sign_in(stranger, username, "wrong password")
    assert try_sign_in(stranger, username, DEMO_PASSWORD).status_code == 429


def unlock(client, page: str, user_id: int):
    """Press the unlock button of the account on a page the actor manages accounts from."""
    token = csrf_token(text(client.get(page)))
    return client.post(f"/account/users/{user_id}/unlock", data={"csrf_token": token, "back": page})


def user_id(session_factory, username: str) -> int:
    with session_factory() as session:
        return session.scalar(select(User.id).where(User.username == username))


def test_the_employers_unit_admin_unlocks_a_professional_from_the_person_page(
    app, login_as, session_factory, frozen_clock
):
    """Finding: a locked-out account could only wait; nobody could unlock it."""
    person = add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    lock_out(app, NURSE_ID)
    admin = login_as("yexian-hr")
    page = f"/persons/{person}"
    nurse = user_id(session_factory, NURSE_ID)
    assert f'action="/account/users/{nurse}/unlock"' in text(admin.get(page))  # the button on the record
    response = unlock(admin, page, nurse)
    assert response.status_code == 302 and response.headers["Location"] == page
    assert try_sign_in(app.test_client(), NURSE_ID, DEMO_PASSWORD).status_code == 302
    with session_factory() as session:  # on the record: whose account, by whom, when
        done = session.scalars(select(AccountUnlock)).one()
        assert (done.user_id, done.by_user_id, done.at) == (
            nurse,
            user_id(session_factory, "yexian-hr"),
            frozen_clock(),
        )


def test_the_county_hrss_unlocks_an_employers_staff_from_the_organisation_page(
    app, login_as, session_factory
):
    lock_out(app, "yexian-hr")
    hrss = login_as("yexian-reviewer")
    with session_factory() as session:
        hospital = session.scalar(select(User.organisation_id).where(User.username == "yexian-hr"))
    assert (
        unlock(hrss, f"/organisations/{hospital}", user_id(session_factory, "yexian-hr")).status_code == 302
    )
    assert try_sign_in(app.test_client(), "yexian-hr", DEMO_PASSWORD).status_code == 302


def test_a_system_admin_unlocks_any_account(app, login_as, session_factory):
    lock_out(app, "lushan-reviewer")
    admin = login_as("admin")
    assert unlock(admin, "/account", user_id(session_factory, "lushan-reviewer")).status_code == 302
    assert try_sign_in(app.test_client(), "lushan-reviewer", DEMO_PASSWORD).status_code == 302


@pytest.mark.parametrize("outsider", ["lushan-reviewer", "lushan-hr"])
def test_an_account_outside_the_jurisdiction_is_not_found(app, login_as, session_factory, outsider):
    lock_out(app, "yexian-hr")
    client = login_as(outsider)
    assert unlock(client, "/account", user_id(session_factory, "yexian-hr")).status_code == 404
    assert unlock(client, "/account", 999_999).status_code == 404
    assert try_sign_in(app.test_client(), "yexian-hr", DEMO_PASSWORD).status_code == 429


def test_a_colleague_who_is_not_the_unit_admin_may_not_unlock(app, login_as, session_factory, frozen_clock):
    person = add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    lock_out(app, "yexian-hr")
    nurse = login_as(NURSE_ID, into=FlaskClient(app, app.response_class, use_cookies=True))
    assert unlock(nurse, f"/persons/{person}", user_id(session_factory, "yexian-hr")).status_code == 403


def test_an_unlock_needs_a_csrf_token(app, login_as, session_factory):
    lock_out(app, "yexian-hr")
    admin = login_as("admin")
    refused = admin.post(f"/account/users/{user_id(session_factory, 'yexian-hr')}/unlock")
    assert refused.status_code == 303  # sent back with "页面已过期，请重新提交"
    assert try_sign_in(app.test_client(), "yexian-hr", DEMO_PASSWORD).status_code == 429  # still locked
