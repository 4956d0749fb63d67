"""Accounts: the sign-in throttle, password changes, the unit admin handover (R3), password resets."""

from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.passwords import hash_password
from domain.accounts.passwords import verify_password
from domain.accounts.unit_admin import HandoverRefused
from domain.accounts.unit_admin import NewAccount
from domain.accounts.unit_admin import NotUnitAdmin
from domain.accounts.unit_admin import account_view
from domain.accounts.unit_admin import hand_over
from domain.accounts.unit_admin import handover_history
from domain.accounts.unit_admin import person_to_reset
from domain.accounts.unit_admin import reset_person_password
from domain.accounts.users import AccountRefused
from domain.accounts.users import AdminHandover
from domain.accounts.users import LoginAttempt
from domain.accounts.users import SignInLocked
from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.accounts.users import authenticate
from domain.accounts.users import begin_sign_in
from domain.accounts.users import change_password
from domain.accounts.users import lock_end
from domain.accounts.users import locked_until
from domain.accounts.users import normalise_username
from domain.accounts.users import succeed_sign_in
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationStatus
from domain.organisations.shipped_regions import seed_regions
from domain.persons.records import Person
from engine.runtime import bootstrap
from services.accounts import change_own_password
from services.accounts import hand_over_unit_admin
from services.accounts import reset_person_password as reset_password_service
from services.accounts import sign_in

PASSWORD = "correct horse"
IP = "10.1.2.3"


@dataclass
class Town:
    """Ids of the records the account rules are checked against."""

    hospital: int
    school: int
    hrss: int
    hospital_admin: int
    hospital_hr: int
    school_admin: int
    school_teacher: int
    hrss_admin: int
    system_admin: int
    nurse: int  # a person of the hospital
    teacher: int  # a person of the school


@pytest.fixture
def town(session_factory, clock) -> Town:
    """Two employers and an HRSS, each with its unit admin; a person at each employer."""
    password = hash_password(PASSWORD)

    def user(session, username, org=None, roles="", is_admin=False):
        account = User(
            username=username,
            password_hash=password,
            display_name=username,
            organisation_id=org.id if org else None,
            roles=roles,
            is_admin=is_admin,
            created_at=clock(),
        )
        session.add(account)
        session.flush()
        return account

    def organisation(session, kind, name, admin_username, roles):
        org = Organisation(kind=kind, name=name, region_code="410422", created_at=clock())
        session.add(org)
        session.flush()
        org.admin_user_id = user(session, admin_username, org, roles).id
        return org

    def person(session, id_number, employer):
        account = user(session, id_number)
        record = Person(
            id_number=id_number,
            name=f"person {id_number[-4:]}",
            gender="F",
            birth_date=date(1985, 1, 1),
            employer_id=employer.id,
            region_code=employer.region_code,
            title_level="intermediate",
            status="active",
            user_id=account.id,
            created_at=clock(),
        )
        session.add(record)
        session.flush()
        return record

    with session_factory() as session, session.begin():
        seed_regions(session)
        hrss = organisation(session, "hrss", "叶县人社局", "hrss-admin", "admin,reviewer")
        hospital = organisation(session, "employer", "叶县人民医院", "hospital-admin", "admin,hr")
        school = organisation(session, "employer", "叶县第一中学", "school-admin", "admin")
        return Town(
            hospital=hospital.id,
            school=school.id,
            hrss=hrss.id,
            hospital_admin=hospital.admin_user_id,
            hospital_hr=user(session, "hospital-hr", hospital, "hr").id,
            school_admin=school.admin_user_id,
            school_teacher=user(session, "school-clerk", school, "").id,
            hrss_admin=hrss.admin_user_id,
            system_admin=user(session, "root", is_admin=True).id,
            nurse=person(session, "41042219850101002X", hospital).id,
            teacher=person(session, "410422198501010037", school).id,
        )


@pytest.fixture
def rt(session_factory, clock):
    """A runtime with no diagrams: the account use cases run no process."""
    return bootstrap(session_factory, operations={}, form_keys=(), candidate_rules={}, clock=clock)


def as_actor(session_factory, user_id):
    with session_factory() as session:
        return actor_for(session, user_id)


def fail(session_factory, clock, username="nurse", ip=IP, times=1, every=timedelta(minutes=1)):
    """Record failed sign-ins (the password never proves right), moving the clock `every` after each."""
    for _ in range(times):
        with session_factory() as session, session.begin():
            begin_sign_in(session, username, ip, clock())
        clock.advance(seconds=every.total_seconds())


def lock(session_factory, clock, username="nurse", ip=IP):
    with session_factory() as session:
        return locked_until(session, username, ip, clock())


def succeed(session_factory, clock, username="nurse", ip=IP):
    with session_factory() as session, session.begin():
        succeed_sign_in(session, begin_sign_in(session, username, ip, clock()))


# --- the throttle ---------------------------------------------------------------------------


def test_an_id_number_typed_with_a_lowercase_x_is_the_stored_username():
    assert normalise_username("  41042219850101002x ") == "41042219850101002X"
    assert normalise_username("yexian-hr ") == "yexian-hr"
    assert normalise_username("box") == "box"  # only an 18-character ID number's check character


def test_four_failures_do_not_lock(session_factory, clock):
    fail(session_factory, clock, times=4)
    assert lock(session_factory, clock) is None


def test_five_failures_within_15_minutes_lock_the_username_from_that_address_for_15_minutes(
    session_factory, clock
):
    fail(session_factory, clock, times=4)
    fifth = clock()
    fail(session_factory, clock, times=1, every=timedelta(0))
    assert lock(session_factory, clock) == fifth + timedelta(minutes=15)
    with session_factory() as session, pytest.raises(SignInLocked) as refused:
        begin_sign_in(session, "nurse", IP, clock())
    assert refused.value.until == fifth + timedelta(minutes=15) and not refused.value.by_address
    assert lock(session_factory, clock, ip="10.9.9.9") is None  # the owner, elsewhere, still signs in


def test_twenty_failures_from_many_addresses_lock_the_username_everywhere(session_factory, clock):
    for n in range(20):
        fail(session_factory, clock, ip=f"198.51.100.{n}", every=timedelta(seconds=10))
    assert lock(session_factory, clock, ip="10.9.9.9") is not None


def test_the_lockout_lasts_15_minutes_even_when_the_first_failure_ages_out(session_factory, clock):
    start = clock()
    fail(session_factory, clock, times=5, every=timedelta(minutes=3))  # failures at 0, 3, 6, 9, 12
    clock.now = start + timedelta(minutes=26, seconds=59)
    assert lock(session_factory, clock) == start + timedelta(minutes=27)
    clock.now = start + timedelta(minutes=27)
    assert lock(session_factory, clock) is None


def test_five_failures_spread_over_more_than_15_minutes_do_not_lock(session_factory, clock):
    fail(session_factory, clock, times=5, every=timedelta(minutes=4))  # 0, 4, 8, 12, 16
    assert lock(session_factory, clock) is None


def test_lock_end_counts_the_latest_run_of_failures():
    t0 = datetime(2025, 11, 3, tzinfo=UTC)
    quarter = timedelta(minutes=15)
    failures = [t0 + timedelta(minutes=m) for m in (0, 1, 2, 3, 20, 21)]
    assert lock_end(failures, 5, quarter, quarter) is None  # never five within a quarter of an hour
    failures += [t0 + timedelta(minutes=m) for m in (22, 23, 24)]
    assert lock_end(failures, 5, quarter, quarter) == t0 + timedelta(minutes=39)


def test_a_correct_password_does_not_get_past_a_lockout(session_factory, clock, town):
    fail(session_factory, clock, username="hospital-admin", times=5)
    with session_factory() as session, pytest.raises(SignInLocked):
        begin_sign_in(session, "hospital-admin", IP, clock())


def test_a_successful_sign_in_resets_the_username_count(session_factory, clock):
    fail(session_factory, clock, times=4)
    succeed(session_factory, clock)
    fail(session_factory, clock, times=4)
    assert lock(session_factory, clock) is None
    fail(session_factory, clock, times=1)
    assert lock(session_factory, clock) is not None


def test_an_office_behind_one_address_is_not_locked_out_by_its_colleagues_typos(session_factory, clock):
    """Finding: 20 failed sign-ins of any accounts behind one office NAT locked out every user there."""
    for n in range(20):
        fail(session_factory, clock, username=f"colleague-{n}", every=timedelta(seconds=10))
    assert lock(session_factory, clock, username="someone-else") is None


def test_fifty_failures_from_one_address_block_every_username_from_it(session_factory, clock):
    for n in range(50):
        fail(session_factory, clock, username=f"guess-{n}", every=timedelta(seconds=10))
    with session_factory() as session, pytest.raises(SignInLocked) as refused:
        begin_sign_in(session, "someone-else", IP, clock())
    assert refused.value.by_address
    assert lock(session_factory, clock, username="someone-else", ip="10.9.9.9") is None


def test_a_success_does_not_reset_the_address_count(session_factory, clock):
    for n in range(49):
        fail(session_factory, clock, username=f"guess-{n}", every=timedelta(seconds=10))
    succeed(session_factory, clock, username="mine")
    fail(session_factory, clock, username="guess-49")
    assert lock(session_factory, clock, username="mine") is not None


def test_a_locked_attempt_is_not_recorded_and_old_attempts_are_purged(session_factory, clock):
    fail(session_factory, clock, times=5)
    with session_factory() as session, pytest.raises(SignInLocked):
        begin_sign_in(session, "nurse", IP, clock())
    clock.advance(days=1, minutes=10)
    fail(session_factory, clock, username="later")
    with session_factory() as session:
        assert session.scalars(select(LoginAttempt.username)).all() == ["later"]


def test_authenticate_finds_only_an_active_user_with_the_right_password(session_factory, town):
    with session_factory() as session:
        assert authenticate(session, "hospital-hr", PASSWORD) == town.hospital_hr
        assert authenticate(session, "hospital-hr", "wrong password") is None
        assert authenticate(session, "nobody", PASSWORD) is None
        session.get(User, town.hospital_hr).active = False
        session.flush()
        assert authenticate(session, "hospital-hr", PASSWORD) is None


# --- password change ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "new", "code"),
    [
        ("wrong password", "a new secret", "wrong_password"),
        (PASSWORD, "short", "too_short"),
        (PASSWORD, "Hospital-HR", "same_as_username"),
        (PASSWORD, PASSWORD, "unchanged"),
    ],
)
def test_password_change_refusals(session_factory, clock, town, current, new, code):
    with session_factory() as session, pytest.raises(AccountRefused) as refused:
        change_password(session, town.hospital_hr, current, new, clock())
    assert refused.value.code == code


def test_password_change_stores_the_new_password_and_resets_the_count(rt, session_factory, clock, town):
    fail(session_factory, clock, username="hospital-hr", times=3)
    change_own_password(rt, town.hospital_hr, "hospital-hr", IP, PASSWORD, "a new secret")
    with session_factory() as session:
        user = session.get(User, town.hospital_hr)
        assert verify_password(user.password_hash, "a new secret")
        assert user.password_changed_at == clock()
    fail(session_factory, clock, username="hospital-hr", times=4)
    assert lock(session_factory, clock, username="hospital-hr") is None


def test_a_wrong_current_password_is_refused_and_counted_as_a_failed_sign_in(
    rt, session_factory, clock, town
):
    fail(session_factory, clock, username="hospital-hr", times=4)
    with pytest.raises(AccountRefused) as refused:
        change_own_password(rt, town.hospital_hr, "hospital-hr", IP, "a guess", "a new secret")
    assert refused.value.code == "wrong_password"
    assert lock(session_factory, clock, username="hospital-hr") is not None  # the fifth failure locks
    with pytest.raises(SignInLocked):
        change_own_password(rt, town.hospital_hr, "hospital-hr", IP, PASSWORD, "a new secret")


def test_sign_in_returns_the_user_and_restarts_the_count(rt, session_factory, clock, town):
    fail(session_factory, clock, username="hospital-hr", times=4)
    assert sign_in(rt, " hospital-hr ", PASSWORD, IP) == town.hospital_hr
    fail(session_factory, clock, username="hospital-hr", times=4)
    assert lock(session_factory, clock, username="hospital-hr") is None


def test_a_wrong_password_signs_no_one_in_and_the_fifth_locks_even_the_right_one(rt, clock, town):
    for _ in range(5):
        assert sign_in(rt, "hospital-hr", "a guess", IP) is None
        clock.advance(minutes=1)
    with pytest.raises(SignInLocked):
        sign_in(rt, "hospital-hr", PASSWORD, IP)


# --- the unit admin's handover (R3) ---------------------------------------------------------


def test_the_unit_admin_hands_over_to_a_colleague_who_gains_the_rights(rt, session_factory, clock, town):
    admin = as_actor(session_factory, town.hospital_admin)
    done = hand_over_unit_admin(rt, admin, town.hospital_hr, note="retiring")
    assert done.successor_id == town.hospital_hr and done.temporary_password is None
    with session_factory() as session:
        assert session.get(Organisation, town.hospital).admin_user_id == town.hospital_hr
        assert session.get(User, town.hospital_hr).roles == "admin,hr"
        former = session.get(User, town.hospital_admin)
        assert (former.roles, former.active) == ("hr", True)  # keeps the HR work
        record = session.scalars(select(AdminHandover)).one()
        assert (record.from_user_id, record.to_user_id, record.by_user_id, record.note) == (
            town.hospital_admin,
            town.hospital_hr,
            town.hospital_admin,
            "retiring",
        )
        assert record.at == clock()


def test_a_former_admin_left_with_no_role_is_deactivated(session_factory, clock, town):
    admin = as_actor(session_factory, town.school_admin)
    with session_factory() as session, session.begin():
        hand_over(session, admin, town.school_teacher, clock())
    with session_factory() as session:
        former = session.get(User, town.school_admin)
        assert (former.roles, former.active) == ("", False)
        assert actor_for(session, town.school_admin) is None


def test_the_former_admin_may_no_longer_hand_over(session_factory, clock, town):
    admin = as_actor(session_factory, town.hospital_admin)
    with session_factory() as session, session.begin():
        hand_over(session, admin, town.hospital_hr, clock())
    former = as_actor(session_factory, town.hospital_admin)
    with session_factory() as session, pytest.raises(NotUnitAdmin):
        hand_over(session, former, town.hospital_admin, clock())
    with session_factory() as session, pytest.raises(NotUnitAdmin):
        handover_history(session, former)


def test_a_colleague_who_is_not_the_unit_admin_may_not_hand_over(rt, session_factory, clock, town):
    hr = as_actor(session_factory, town.hospital_hr)
    with pytest.raises(NotUnitAdmin):
        hand_over_unit_admin(rt, hr, town.hospital_hr)
    other_admin = as_actor(session_factory, town.school_admin)
    with pytest.raises(NotVisible):  # another employer lies outside its jurisdiction (R15)
        hand_over_unit_admin(rt, other_admin, town.hospital_hr, organisation_id=town.hospital)
    with session_factory() as session:
        assert session.get(Organisation, town.hospital).admin_user_id == town.hospital_admin
        assert session.scalar(select(func.count()).select_from(AdminHandover)) == 0


def test_a_system_admin_may_hand_over_any_organisation(session_factory, clock, town):
    root = as_actor(session_factory, town.system_admin)
    with session_factory() as session, session.begin():
        hand_over(session, root, town.hospital_hr, clock(), organisation_id=town.hospital)
    with session_factory() as session:
        assert session.get(Organisation, town.hospital).admin_user_id == town.hospital_hr
        assert session.scalars(select(AdminHandover.by_user_id)).one() == town.system_admin


@pytest.mark.parametrize("successor", ["school_teacher", "hospital_admin", "nurse_account", "inactive"])
def test_the_successor_is_another_active_user_of_the_same_organisation(
    session_factory, clock, town, successor
):
    with session_factory() as session, session.begin():
        nurse_account = session.get(Person, town.nurse).user_id
        session.get(User, town.hospital_hr).active = False
    ids = {
        "school_teacher": town.school_teacher,
        "hospital_admin": town.hospital_admin,
        "nurse_account": nurse_account,
        "inactive": town.hospital_hr,
    }
    admin = as_actor(session_factory, town.hospital_admin)
    with session_factory() as session, pytest.raises(HandoverRefused) as refused:
        hand_over(session, admin, ids[successor], clock())
    assert refused.value.code == "no_such_colleague"


def test_a_handover_to_a_new_account_creates_it_with_a_temporary_password(session_factory, clock, town):
    admin = as_actor(session_factory, town.school_admin)
    with session_factory() as session, session.begin():
        done = hand_over(
            session, admin, NewAccount("school-new", "王老师"), clock(), generate=lambda: "Tmp-Pass-123"
        )
    assert done.temporary_password == "Tmp-Pass-123"
    with session_factory() as session:
        heir = session.get(User, done.successor_id)
        assert (heir.username, heir.organisation_id, heir.roles) == ("school-new", town.school, "admin")
        assert authenticate(session, "school-new", "Tmp-Pass-123") == heir.id


def test_a_new_account_needs_a_free_username(session_factory, clock, town):
    admin = as_actor(session_factory, town.school_admin)
    with session_factory() as session, pytest.raises(HandoverRefused) as refused:
        hand_over(session, admin, NewAccount("Hospital-HR", "someone"), clock())
    assert refused.value.code == "username_taken"


def test_an_organisation_that_is_not_active_cannot_hand_over(session_factory, clock, town):
    with session_factory() as session, session.begin():
        session.get(Organisation, town.hospital).status = OrganisationStatus.PENDING
    admin = as_actor(session_factory, town.hospital_admin)
    with session_factory() as session, pytest.raises(HandoverRefused) as refused:
        hand_over(session, admin, town.hospital_hr, clock())
    assert refused.value.code == "organisation_not_active"


def test_the_handover_history_lists_every_handover_newest_first(session_factory, clock, town):
    with session_factory() as session, session.begin():
        hand_over(session, as_actor(session_factory, town.hospital_admin), town.hospital_hr, clock())
    clock.advance(days=1)
    with session_factory() as session, session.begin():
        hand_over(session, as_actor(session_factory, town.hospital_hr), town.hospital_admin, clock(), "back")
    with session_factory() as session:
        history = handover_history(session, actor_for(session, town.hospital_admin))
    assert [(h.from_name, h.to_name, h.note) for h in history] == [
        ("hospital-hr", "hospital-admin", "back"),
        ("hospital-admin", "hospital-hr", ""),
    ]


def test_exactly_one_unit_admin_holds_the_post(session_factory, clock, town):
    with session_factory() as session, session.begin():
        hand_over(session, as_actor(session_factory, town.hospital_admin), town.hospital_hr, clock())
    with session_factory() as session:
        admins = [
            user_id
            for user_id in (town.hospital_admin, town.hospital_hr)
            if account_view(session, user_id).is_unit_admin
        ]
        assert admins == [town.hospital_hr]
        holders = session.scalar(
            select(func.count()).where(User.organisation_id == town.hospital, User.roles.contains("admin"))
        )
        assert holders == 1


# --- an employer's unit admin resets its persons' passwords ---------------------------------


def test_the_employer_admin_resets_its_own_persons_password(rt, session_factory, clock, town):
    admin = as_actor(session_factory, town.hospital_admin)
    with session_factory() as session:
        assert person_to_reset(session, admin, town.nurse).masked_id_number == "4104**********002X"
    password = reset_password_service(rt, admin, town.nurse)
    with session_factory() as session:
        nurse_user = session.get(Person, town.nurse).user_id
        assert authenticate(session, "41042219850101002X", password) == nurse_user
        assert authenticate(session, "41042219850101002X", PASSWORD) is None


def test_a_reset_lifts_the_persons_lockout(session_factory, clock, town):
    fail(session_factory, clock, username="41042219850101002X", times=5)
    with session_factory() as session, session.begin():
        reset_person_password(session, as_actor(session_factory, town.hospital_admin), town.nurse, clock())
    assert lock(session_factory, clock, username="41042219850101002X") is None


def test_another_employers_person_is_not_visible(session_factory, clock, town):
    admin = as_actor(session_factory, town.hospital_admin)
    with session_factory() as session, pytest.raises(NotVisible):
        reset_person_password(session, admin, town.teacher, clock())
    with session_factory() as session, pytest.raises(NotVisible):
        reset_person_password(session, admin, 999_999, clock())


@pytest.mark.parametrize("who", ["hospital_hr", "hrss_admin", "system_admin"])
def test_only_an_employers_unit_admin_resets_passwords(rt, session_factory, clock, town, who):
    actor = as_actor(session_factory, getattr(town, who))
    with pytest.raises(NotUnitAdmin):
        reset_password_service(rt, actor, town.nurse)
    with session_factory() as session:
        nurse_user = session.get(Person, town.nurse).user_id
        assert authenticate(session, "41042219850101002X", PASSWORD) == nurse_user
