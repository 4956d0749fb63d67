"""Account pages: throttled sign-in, password change, the unit admin handover, person password resets."""

from datetime import date

import pytest
from sqlalchemy import select

from domain.accounts.passwords import hash_password
from domain.accounts.users import User
from domain.organisations.records import Organisation
from domain.persons.records import Person
from seed.demo import DEMO_PASSWORD
from tests.web.conftest import csrf_token

HOSPITAL = "叶县人民医院"
SCHOOL = "鲁山县第一中学"
NURSE_ID = "41042219850101002X"
TEACHER_ID = "410423199001010018"


def text(response) -> str:
    return response.get_data(as_text=True)


def signed_in(client) -> bool:
    with client.session_transaction() as browser_session:
        return "_user_id" in browser_session


def in_english(client):
    """Show the pages in English, whatever the Chinese catalog holds by now."""
    with client.session_transaction() as browser_session:
        browser_session["lang"] = "en"
    return client


@pytest.fixture(autouse=True)
def frozen_clock(app, clock):
    """Run the app on the test's fake clock (2025-11-03 01:00 UTC, 09:00 in Beijing)."""
    app.extensions["ceflow.runtime"].clock = clock
    return clock


@pytest.fixture
def english(client):
    return in_english(client)


def try_sign_in(client, username: str, password: str, ip: str = "127.0.0.1"):
    token = csrf_token(text(client.get("/login")))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """Open a page, then post its form with the page's CSRF token."""
    token = csrf_token(text(client.get(path)))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def make_unit_admin(session_factory, username: str) -> int:
    """Make sure a demo user is the unit admin of their organisation; return the organisation's id."""
    with session_factory() as session, session.begin():
        user = session.scalar(select(User).where(User.username == username))
        if "admin" not in user.roles.split(","):
            user.roles = f"admin,{user.roles}"
        session.get(Organisation, user.organisation_id).admin_user_id = user.id
        return user.organisation_id


def add_user(session_factory, clock, username: str, organisation_id: int | None, roles: str = "hr") -> int:
    with session_factory() as session, session.begin():
        user = User(
            username=username,
            password_hash=hash_password(DEMO_PASSWORD),
            display_name=username,
            organisation_id=organisation_id,
            roles=roles,
            created_at=clock(),
        )
        session.add(user)
        session.flush()
        return user.id


def add_person(session_factory, clock, employer_name: str, id_number: str) -> int:
    """Register an active person with a login directly in the database; return the person's id."""
    user_id = add_user(session_factory, clock, id_number, None, roles="")
    with session_factory() as session, session.begin():
        employer = session.scalar(select(Organisation).where(Organisation.name == employer_name))
        person = Person(
            id_number=id_number,
            name=f"professional {id_number[-4:]}",
            gender="F",
            birth_date=date(1985, 1, 1),
            employer_id=employer.id,
            region_code=employer.region_code,
            title_level="intermediate",
            status="active",
            user_id=user_id,
            created_at=clock(),
        )
        session.add(person)
        session.flush()
        return person.id


# --- throttled sign-in ------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(english, frozen_clock):
    for _ in range(5):
        response = try_sign_in(english, "yexian-reviewer", "wrong password")
        assert "Wrong username or password." in text(response)
    response = try_sign_in(english, "yexian-reviewer", DEMO_PASSWORD)
    assert response.status_code == 429
    assert "locked after too many failed sign-ins. Try again after 2025-11-03 09:15" in text(response)
    assert not signed_in(english)


def test_a_locked_account_tells_its_owner_in_chinese_how_to_get_unlocked(client, frozen_clock):
    """Finding: the lockout message said only "try again later", not who can unlock the account."""
    for _ in range(5):
        try_sign_in(client, "yexian-reviewer", "wrong password")
    page = text(try_sign_in(client, "yexian-reviewer", DEMO_PASSWORD))
    assert "2025-11-03 09:15" in page
    assert "单位管理员" in page and "人社" in page and "解锁" in page


def test_sign_in_works_again_15_minutes_after_the_lockout(english, frozen_clock, login_as):
    for _ in range(5):
        try_sign_in(english, "yexian-reviewer", "wrong password")
    frozen_clock.advance(minutes=14, seconds=59)
    assert try_sign_in(english, "yexian-reviewer", DEMO_PASSWORD).status_code == 429
    frozen_clock.advance(seconds=1)
    login_as("yexian-reviewer")
    assert signed_in(english)


def test_one_address_cannot_try_many_usernames(english):
    for n in range(50):
        try_sign_in(english, f"guess-{n}", "wrong password", ip="203.0.113.7")
    response = try_sign_in(english, "yexian-reviewer", DEMO_PASSWORD, ip="203.0.113.7")
    assert response.status_code == 429 and not signed_in(english)
    assert try_sign_in(english, "yexian-reviewer", DEMO_PASSWORD, ip="203.0.113.8").status_code == 302


def test_a_person_signs_in_with_the_id_number_typed_with_a_lowercase_x(
    english, session_factory, frozen_clock
):
    add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    response = try_sign_in(english, f" {NURSE_ID.lower()} ", DEMO_PASSWORD)
    assert response.status_code == 302 and signed_in(english)


# --- password change --------------------------------------------------------------------------


def change(client, current: str, new: str, confirm: str | None = None):
    data = {"current": current, "new": new, "confirm": new if confirm is None else confirm}
    return post_form(client, "/account/password", data, follow_redirects=True)


def test_a_signed_in_user_changes_the_password(english, login_as, client):
    login_as("yexian-reviewer")
    assert "Your password was changed." in text(change(client, DEMO_PASSWORD, "a much better one"))
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/account")))})
    assert try_sign_in(english, "yexian-reviewer", DEMO_PASSWORD).status_code == 200
    assert try_sign_in(english, "yexian-reviewer", "a much better one").status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password", "a much better one", None, "The current password is wrong."),
        (DEMO_PASSWORD, "short", None, "The new password needs at least 8 characters."),
        (DEMO_PASSWORD, "yexian-reviewer", None, "The new password must not be the username."),
        (DEMO_PASSWORD, "a much better one", "a much better two", "The two new passwords differ."),
    ],
)
def test_a_password_change_is_refused_with_a_reason(
    english, login_as, client, current, new, confirm, message
):
    login_as("yexian-reviewer")
    assert message in text(change(client, current, new, confirm))
    client.post("/logout", data={"csrf_token": csrf_token(text(client.get("/account")))})
    assert try_sign_in(english, "yexian-reviewer", DEMO_PASSWORD).status_code == 302


def test_the_password_page_needs_a_signed_in_user_and_a_csrf_token(client, login_as):
    assert client.get("/account/password").status_code == 302
    login_as("yexian-reviewer")
    page = text(client.get("/account/password"))
    assert 'name="csrf_token"' in page
    data = {"current": DEMO_PASSWORD, "new": "a much better one", "confirm": "a much better one"}
    assert client.post("/account/password", data=data).status_code == 400


# --- the unit admin handover (R3) -------------------------------------------------------------


def test_the_unit_admin_hands_over_and_loses_the_page(app, english, login_as, session_factory, frozen_clock):
    hospital = make_unit_admin(session_factory, "yexian-hr")
    successor = add_user(session_factory, frozen_clock, "yexian-hr-2", hospital)
    login_as("yexian-hr")
    page = text(english.get("/account/handover"))
    assert "yexian-hr-2" in page and "No handover yet." in page
    response = post_form(
        english, "/account/handover", {"successor": successor, "note": "moving to the county"}
    )
    assert response.status_code == 302
    assert english.get("/account/handover").status_code == 403
    newcomer = login_as("yexian-hr-2", into=in_english(app.test_client()))
    page = text(newcomer.get("/account/handover"))
    assert page.count("handed over to") == 1 and "moving to the county" in page
    assert "Unit admin" in text(newcomer.get("/account"))


def test_a_handover_to_a_new_account_shows_its_temporary_password_once(
    app, english, login_as, session_factory
):
    make_unit_admin(session_factory, "yexian-hr")
    login_as("yexian-hr")
    response = post_form(
        english, "/account/handover", {"successor": 0, "username": "yexian-new-admin", "display_name": "王新"}
    )
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = response.get_data(as_text=True).split('class="temporary-password">')[1].split("<")[0]
    newcomer = in_english(app.test_client())
    assert try_sign_in(newcomer, "yexian-new-admin", password).status_code == 302
    assert newcomer.get("/account/handover").status_code == 200


def test_a_handover_to_a_new_account_refuses_hidden_characters(english, login_as, session_factory):
    """Finding "text that lies": a successor's username or name could carry BEL or U+202E."""
    hospital = make_unit_admin(session_factory, "yexian-hr")
    login_as("yexian-hr")
    for username, name in (("yexian\x07new", "王新"), ("yexian-new", "王\u202e新")):
        data = {"successor": 0, "username": username, "display_name": name}
        page = text(post_form(english, "/account/handover", data))
        assert "please retype the text without it" in page
    with session_factory() as session:
        assert session.get(Organisation, hospital).admin_user_id == session.scalar(
            select(User.id).where(User.username == "yexian-hr")
        )


def test_only_the_unit_admin_reaches_the_handover_page(login_as, client, session_factory):
    hospital = make_unit_admin(session_factory, "yexian-hr")
    login_as("pds-approver")
    assert client.get("/account/handover").status_code == 403
    assert client.get(f"/account/organisations/{hospital}/handover").status_code == 403  # in its city


def test_another_jurisdictions_handover_and_reset_pages_are_not_found(
    login_as, client, session_factory, frozen_clock
):
    """Finding "jurisdiction holes": these two pages answered 403 where other records answer 404 (R15)."""
    hospital = make_unit_admin(session_factory, "yexian-hr")
    nurse = add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    with session_factory() as session:
        province = session.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410000")
        )
    login_as("lushan-reviewer")
    assert client.get(f"/account/organisations/{hospital}/handover").status_code == 404
    assert client.get(f"/account/persons/{nurse}/reset-password").status_code == 404
    assert client.get("/account/organisations/999999/handover").status_code == 404
    login_as("pds-approver", into=client)
    assert client.get(f"/account/organisations/{province}/handover").status_code == 404
    token = csrf_token(text(client.get("/account/password")))
    assert (
        client.post(f"/account/persons/{nurse}/reset-password", data={"csrf_token": token}).status_code == 403
    )
    login_as("lushan-hr", into=client)
    assert (
        client.post(f"/account/organisations/{hospital}/handover", data={"csrf_token": token}).status_code
        == 404
    )


def test_a_system_admin_hands_over_any_organisation(login_as, client, session_factory, frozen_clock):
    hospital = make_unit_admin(session_factory, "yexian-hr")
    successor = add_user(session_factory, frozen_clock, "yexian-hr-2", hospital)
    login_as("admin")
    path = f"/account/organisations/{hospital}/handover"
    assert post_form(client, path, {"successor": successor}).status_code == 302
    with session_factory() as session:
        assert session.get(Organisation, hospital).admin_user_id == successor
    assert client.get("/account/organisations/999999/handover").status_code == 404


def test_a_handover_post_without_a_csrf_token_is_refused(login_as, client, session_factory, frozen_clock):
    hospital = make_unit_admin(session_factory, "yexian-hr")
    successor = add_user(session_factory, frozen_clock, "yexian-hr-2", hospital)
    login_as("yexian-hr")
    assert client.post("/account/handover", data={"successor": successor}).status_code == 400
    with session_factory() as session:
        assert session.get(Organisation, hospital).admin_user_id != successor


# --- an employer's unit admin resets its persons' passwords -----------------------------------


def test_the_employer_admin_resets_its_own_persons_password(
    app, english, login_as, session_factory, frozen_clock
):
    make_unit_admin(session_factory, "yexian-hr")
    nurse = add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    login_as("yexian-hr")
    path = f"/account/persons/{nurse}/reset-password"
    assert "4104**********002X" in text(english.get(path))
    response = post_form(english, path)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = text(response).split('class="temporary-password">')[1].split("<")[0]
    person = in_english(app.test_client())
    assert try_sign_in(person, NURSE_ID, DEMO_PASSWORD).status_code == 200
    assert try_sign_in(person, NURSE_ID, password).status_code == 302


def test_another_employers_person_is_not_found(login_as, client, session_factory, frozen_clock):
    make_unit_admin(session_factory, "yexian-hr")
    teacher = add_person(session_factory, frozen_clock, SCHOOL, TEACHER_ID)
    login_as("yexian-hr")
    path = f"/account/persons/{teacher}/reset-password"
    assert client.get(path).status_code == 404
    token = csrf_token(text(client.get("/account/password")))
    assert client.post(path, data={"csrf_token": token}).status_code == 404


def test_only_the_employers_unit_admin_resets_passwords(login_as, client, session_factory, frozen_clock):
    hospital = make_unit_admin(session_factory, "yexian-hr")
    add_user(session_factory, frozen_clock, "yexian-hr-2", hospital)
    nurse = add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    login_as("yexian-hr-2")  # the hospital's HR, but not its unit admin
    assert client.get(f"/account/persons/{nurse}/reset-password").status_code == 403
    login_as("yexian-reviewer", into=client)
    assert client.get(f"/account/persons/{nurse}/reset-password").status_code == 403


def test_a_reset_post_without_a_csrf_token_is_refused(login_as, client, session_factory, frozen_clock):
    make_unit_admin(session_factory, "yexian-hr")
    nurse = add_person(session_factory, frozen_clock, HOSPITAL, NURSE_ID)
    login_as("yexian-hr")
    assert client.post(f"/account/persons/{nurse}/reset-password").status_code == 400
