"""Registration (R1, R2, R5, R18): top-down, reviewed by the receiving side, numbered without gaps."""

from dataclasses import replace

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.opening import UsernameTaken
from domain.accounts.opening import open_account
from domain.accounts.passwords import verify_password
from domain.accounts.users import User
from domain.certificates.numbers import allocate_range
from domain.identity import IdNumberError
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.registration.applications import OrganisationApplication
from domain.registration.applications import PersonApplication
from domain.registration.applications import RegistrationRefused
from domain.registration.choices import authority_choices
from engine.errors import StepFailed
from engine.errors import UnknownProcess
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.tasks.assignment import claim_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import reject_task
from engine.tasks.commands import return_task
from services import registration as registration_service
from services.registration import apply_as_person
from services.registration import apply_for_organisation
from services.registration import withdraw_application
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task

VALID_CODE = "91410400MA44L5XC7A"


def valid_id(prefix="41040219850612001"):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11]
    return prefix + check


def credit_code(body="91410400MA44L5XC7"):
    from stdnum.cn import uscc

    return body + uscc.calc_check_digit(body)


def authority(session_factory, clock, status="active", region_code="410422", name="叶县教育局"):
    with session_factory() as s, s.begin():
        org = Organisation(
            kind="authority", name=name, region_code=region_code, status=status, created_at=clock()
        )
        s.add(org)
        s.flush()
        return org.id


def employer_application(authority_id, **changes):
    values = dict(
        kind="employer",
        name="叶县第二高级中学",
        region_code="410422",
        credit_code=credit_code(),
        admin_username="yx2gz",
        admin_password="secret-123",
        admin_name="王人事",
        authority_id=authority_id,
        expected_persons=40,
    )
    values.update(changes)
    return OrganisationApplication(**values)


def org_of(session_factory, instance_id):
    with session_factory() as s:
        org_id = int(instance(session_factory, instance_id).business_key.split(":")[1])
        return s.get(Organisation, org_id)


def test_employer_registers_with_the_hrss_of_its_region_which_approves(
    rt, actor, session_factory, clock, world
):
    iid = apply_for_organisation(rt, employer_application(authority(session_factory, clock)))
    review = only_open_task(session_factory, iid)
    assert review.spec_name == "review" and review.candidates == "g:hrss:410422:reviewer"
    assert org_of(session_factory, iid).status == "pending"
    complete_task(rt, actor("410422-reviewer"), review.id, {}, "材料齐全，同意注册")
    org = org_of(session_factory, iid)
    assert org.status == "active" and org.registered_with_id is not None and org.admin_user_id is not None
    assert instance(session_factory, iid).status == "completed"


def test_nothing_registers_under_an_inactive_parent(rt, session_factory, clock):
    pending_authority = authority(session_factory, clock, status="pending")
    with pytest.raises(RegistrationRefused) as refused:
        apply_for_organisation(rt, employer_application(pending_authority))
    assert refused.value.code == "authority_not_active"
    with pytest.raises(RegistrationRefused) as refused:
        apply_for_organisation(rt, employer_application(None, kind="institution", region_code="410425"))
    assert refused.value.code == "hrss_not_active"  # 郏县 has no HRSS in this world
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(Organisation.name == "叶县第二高级中学")) == 0
        assert s.scalar(select(func.count()).where(User.username == "yx2gz")) == 0


def test_an_employer_belongs_only_to_an_authority_of_its_region_or_above(rt, session_factory, clock):
    """Finding "jurisdiction holes": an employer in 叶县 registered under 鲁山县's water authority (R1)."""
    lushan_water = authority(session_factory, clock, region_code="410423", name="鲁山县水利局")
    with pytest.raises(RegistrationRefused) as refused:
        apply_for_organisation(rt, employer_application(lushan_water))
    assert refused.value.code == "authority_out_of_region"
    assert refused.value.params == {"name": "鲁山县水利局", "region": "叶县"}
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(Organisation.name == "叶县第二高级中学")) == 0
    city_health = authority(session_factory, clock, region_code="410400", name="平顶山市卫健委")
    assert apply_for_organisation(rt, employer_application(city_health))  # the level above is fine
    with session_factory() as s:
        choices = {c.label for c in authority_choices(s, "410422")}
    assert choices == {"平顶山市·平顶山市卫健委"}


def test_a_taken_admin_username_or_credit_code_refuses_the_application_and_stores_nothing(
    rt, session_factory, clock
):
    parent = authority(session_factory, clock)
    apply_for_organisation(rt, employer_application(parent))
    name = "叶县第三高级中学"
    other_code = credit_code("91410400MA44L5XC8")
    with pytest.raises(RegistrationRefused) as refused:
        apply_for_organisation(
            rt, employer_application(parent, name=name, credit_code=other_code, admin_username="YX2GZ")
        )
    assert refused.value.code == "username_taken"
    with pytest.raises(RegistrationRefused) as refused:  # its message fills a "code": once a TypeError
        apply_for_organisation(rt, employer_application(parent, name=name, admin_username="yx3gz"))
    assert refused.value.code == "credit_code_taken" and credit_code() in str(refused.value)
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(Organisation.name == name)) == 0
        assert s.scalar(select(func.count()).where(User.username.in_(["yx2gz", "yx3gz"]))) == 1


def test_returned_application_is_corrected_and_resubmitted(rt, actor, session_factory, clock):
    iid = apply_for_organisation(rt, employer_application(authority(session_factory, clock)))
    review = only_open_task(session_factory, iid)
    return_task(rt, actor("410422-reviewer"), review.id, "单位名称与营业执照不一致")
    again = only_open_task(session_factory, iid)
    assert again.spec_name == "submit"
    applicant = actor_of_org_admin(session_factory, iid, actor)
    complete_task(
        rt,
        applicant,
        again.id,
        {"name": "叶县第二高级中学（更正）", "expected_persons": 45},
        action="resubmit",
    )
    assert org_of(session_factory, iid).name == "叶县第二高级中学（更正）"
    assert only_open_task(session_factory, iid).spec_name == "review"
    with session_factory() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == iid)).all()
    assert actions[-2:] == ["return", "resubmit"]  # the history says 重新提交, not 通过


def test_a_whole_correction_is_checked_like_the_application_and_a_refusal_keeps_the_step_open(
    rt, actor, session_factory, clock
):
    from domain.registration.applications import OrganisationDetails
    from services.registration import resubmit_organisation

    own = authority(session_factory, clock)
    iid = apply_for_organisation(rt, employer_application(own))
    return_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, "信用代码有误")
    step = only_open_task(session_factory, iid)
    applicant = actor_of_org_admin(session_factory, iid, actor)
    elsewhere = authority(session_factory, clock, region_code="410423", name="鲁山县教育局")
    details = OrganisationDetails(
        kind="employer",
        name="叶县第二高级中学",
        region_code="410422",
        credit_code=credit_code("91410422MA44L5XC8"),
        admin_name="王校长",
        authority_id=elsewhere,
        industry="教育",
    )
    with pytest.raises(RegistrationRefused) as refused:
        resubmit_organisation(rt, applicant, step.id, details)
    assert refused.value.code == "authority_out_of_region"
    assert (
        org_of(session_factory, iid).uscc == credit_code()
        and only_open_task(session_factory, iid).id == step.id
    )

    resubmit_organisation(rt, applicant, step.id, replace(details, authority_id=own))
    corrected = org_of(session_factory, iid)
    assert (corrected.uscc, corrected.authority_id, corrected.industry) == (
        credit_code("91410422MA44L5XC8"),
        own,
        "教育",
    )
    with session_factory() as s:
        assert s.get(User, corrected.admin_user_id).display_name == "王校长"
    assert only_open_task(session_factory, iid).spec_name == "review"
    stranger = actor("410422-reviewer")
    with pytest.raises(RegistrationRefused):
        resubmit_organisation(rt, stranger, only_open_task(session_factory, iid).id, details)


def stored_rows(session_factory) -> dict[str, int]:
    with session_factory() as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (Organisation, Person, User, ProcessInstance, HumanTask, AuditEvent)
        }


def test_an_organisation_whose_process_is_not_deployed_stores_nothing(
    rt, session_factory, clock, monkeypatch
):
    parent = authority(session_factory, clock)
    before = stored_rows(session_factory)
    monkeypatch.setattr(registration_service, "ORGANISATION_PROCESS", "no_such_process")
    with pytest.raises(UnknownProcess):
        apply_for_organisation(rt, employer_application(parent))
    assert stored_rows(session_factory) == before  # no organisation, account, instance, task or audit row


def break_candidate_rules(rt, monkeypatch, fault: BaseException):
    def broken_rule(*_args):
        raise fault

    monkeypatch.setattr(rt, "candidate_rules", {name: broken_rule for name in rt.candidate_rules})


def test_a_person_whose_process_fails_to_start_stores_nothing(rt, actor, session_factory, clock, monkeypatch):
    employer_id = active_employer(rt, actor, session_factory, clock)
    before = stored_rows(session_factory)
    break_candidate_rules(rt, monkeypatch, RuntimeError("candidate rule broke"))
    with pytest.raises(StepFailed) as failed:
        apply_as_person(rt, person_application(employer_id))
    assert "candidate rule broke" in failed.value.reason
    assert stored_rows(session_factory) == before


def test_a_worker_stopped_while_the_process_starts_leaves_no_half_registration(
    rt, session_factory, clock, monkeypatch
):
    parent = authority(session_factory, clock)
    before = stored_rows(session_factory)
    break_candidate_rules(rt, monkeypatch, SystemExit(1))  # what a gunicorn worker timeout raises
    with pytest.raises(SystemExit):
        apply_for_organisation(rt, employer_application(parent))
    assert stored_rows(session_factory) == before


def actor_of_org_admin(session_factory, iid, actor_factory):
    from domain.accounts.users import actor_for

    with session_factory() as s:
        return actor_for(s, org_of(session_factory, iid).admin_user_id)


def test_rejected_application_closes_the_organisation_and_its_account(rt, actor, session_factory, clock):
    iid = apply_for_organisation(rt, employer_application(authority(session_factory, clock)))
    reject_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, "非法人单位")
    org = org_of(session_factory, iid)
    assert org.status == "rejected"
    with session_factory() as s:
        assert s.get(User, org.admin_user_id).active is False


def test_applicant_can_withdraw_a_pending_application(rt, actor, session_factory, clock):
    iid = apply_for_organisation(rt, employer_application(authority(session_factory, clock)))
    withdraw_application(rt, actor_of_org_admin(session_factory, iid, actor), iid, "重复申请")
    assert org_of(session_factory, iid).status == "withdrawn"


def active_employer(rt, actor, session_factory, clock):
    iid = apply_for_organisation(rt, employer_application(authority(session_factory, clock)))
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "同意")
    return org_of(session_factory, iid).id


def person_application(employer_id, **changes):
    values = dict(
        id_number=valid_id(),
        name="李四",
        employer_id=employer_id,
        title_level="intermediate",
        title_series="中学教师",
        password="secret-123",
    )
    values.update(changes)
    return PersonApplication(**values)


def hr_actor(session_factory, employer_id):
    from domain.accounts.users import actor_for

    with session_factory() as s:
        return actor_for(s, s.get(Organisation, employer_id).admin_user_id)


def test_person_registers_with_an_employer_and_gets_the_next_number(rt, actor, session_factory, clock):
    employer = active_employer(rt, actor, session_factory, clock)
    with session_factory() as s, s.begin():
        hrss = s.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410422")
        )
        allocate_range(s, hrss, employer, 10, clock())
    iid = apply_as_person(rt, person_application(employer))
    review = only_open_task(session_factory, iid)
    assert review.candidates == f"o:{employer}:hr"
    complete_task(rt, hr_actor(session_factory, employer), review.id, {}, "本单位在职")
    with session_factory() as s:
        person = s.scalars(select(Person)).one()
    assert person.status == "active" and person.certificate_number is not None
    assert instance(session_factory, iid).status == "completed"


def test_a_used_up_range_stops_at_the_hrss_which_allocates_more(rt, actor, session_factory, clock):
    employer = active_employer(rt, actor, session_factory, clock)
    iid = apply_as_person(rt, person_application(employer))
    complete_task(
        rt, hr_actor(session_factory, employer), only_open_task(session_factory, iid).id, {}, "同意"
    )
    allocate = only_open_task(session_factory, iid)
    assert allocate.spec_name == "allocate" and allocate.candidates == "g:hrss:410422:reviewer"
    hrss_reviewer = actor("410422-reviewer")
    claim_task(rt, hrss_reviewer, allocate.id)
    complete_task(rt, hrss_reviewer, allocate.id, {"range_size": 50}, "分配50个号")
    with session_factory() as s:
        person = s.scalars(select(Person)).one()
    assert person.status == "active" and person.certificate_number


def test_a_2014_certificate_holder_keeps_the_number(rt, actor, session_factory, clock):
    employer = active_employer(rt, actor, session_factory, clock)
    iid = apply_as_person(
        rt, person_application(employer, certificate_number="豫继2014-000123", certificate_year=2014)
    )
    complete_task(
        rt, hr_actor(session_factory, employer), only_open_task(session_factory, iid).id, {}, "同意"
    )
    with session_factory() as s:
        assert s.scalars(select(Person.certificate_number)).one() == "豫继2014-000123"


@pytest.mark.parametrize(
    "bad, code",
    [
        ("410402198506120019", "checksum"),
        ("41040219850612001", "length"),
        ("41040219990230001" + "X", "birth_date"),
        (valid_id("41040219850612018")[:-1] + "x", "lowercase_x"),
    ],
)
def test_an_invalid_id_number_is_refused_and_nothing_is_stored(rt, actor, session_factory, clock, bad, code):
    employer = active_employer(rt, actor, session_factory, clock)
    with pytest.raises(IdNumberError) as refused:
        apply_as_person(rt, person_application(employer, id_number=bad))
    assert refused.value.code in (code, "checksum")
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0
        assert s.scalar(select(func.count()).where(User.username == bad)) == 0


def test_one_id_number_one_account(rt, actor, session_factory, clock):
    employer = active_employer(rt, actor, session_factory, clock)
    apply_as_person(rt, person_application(employer))
    with pytest.raises(RegistrationRefused) as refused:
        apply_as_person(rt, person_application(employer, name="冒名"))
    assert refused.value.code == "id_number_taken"


def test_the_review_time_limit_comes_from_the_citys_policy_calendar(rt, actor, session_factory, clock):
    from datetime import datetime

    from domain.calendar.policy import NOTICE_2015
    from domain.calendar.policy import save_policy

    with session_factory() as s, s.begin():
        values = {
            k: v if not isinstance(v, tuple) else datetime(2025, *v).date() for k, v in NOTICE_2015.items()
        }
        save_policy(s, 2025, "410400", {**values, "review_working_days": 2}, "test", clock())
    iid = apply_for_organisation(rt, employer_application(authority(session_factory, clock)))
    # Monday 2025-11-03 plus two working days: Wednesday, end of day in Beijing
    assert only_open_task(session_factory, iid).due_at == datetime.fromisoformat("2025-11-05T23:59:59+08:00")


def test_parallel_approvals_number_persons_without_gaps_or_duplicates(rt, actor, session_factory, clock):
    import threading

    employer = active_employer(rt, actor, session_factory, clock)
    with session_factory() as s, s.begin():
        hrss = s.scalar(
            select(Organisation.id).where(Organisation.kind == "hrss", Organisation.region_code == "410422")
        )
        allocate_range(s, hrss, employer, 50, clock())
    tasks = []
    for n in range(12):
        iid = apply_as_person(
            rt, person_application(employer, id_number=valid_id(f"4104021985061{n:03d}0"[:17]))
        )
        tasks.append(only_open_task(session_factory, iid).id)
    hr = hr_actor(session_factory, employer)
    barrier, errors = threading.Barrier(4), []

    def approve(share):
        barrier.wait()
        for task_id in share:
            try:
                complete_task(rt, hr, task_id, {}, "同意")
            except Exception as error:  # any failure is the test's finding
                errors.append(error)

    threads = [threading.Thread(target=approve, args=(tasks[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with session_factory() as s:
        numbers = sorted(s.scalars(select(Person.certificate_number)).all())
    sequences = [int(number[-6:]) for number in numbers]
    assert len(set(numbers)) == 12 and sequences == list(range(sequences[0], sequences[0] + 12))


def test_an_account_gets_a_hashed_password_and_a_username_unique_in_any_case(session_factory, clock):
    with session_factory() as session, session.begin():
        user = open_account(session, "  Yx2gz ", "secret-1234", "王老师", clock(), roles="admin")
        assert (user.username, user.roles, user.active) == ("Yx2gz", "admin", True)
        assert user.password_hash != "secret-1234" and verify_password(user.password_hash, "secret-1234")
        with pytest.raises(UsernameTaken) as taken:
            open_account(session, "YX2GZ", "other-1234", "李老师", clock())
        assert taken.value.username == "YX2GZ"


def test_a_kept_number_already_taken_refuses_the_second_application(rt, actor, session_factory, clock):
    """Finding: a taken 2013/2014 number escaped as a CertificateError (a broken step, a 500 on the page)."""
    employer = active_employer(rt, actor, session_factory, clock)
    kept = {"certificate_number": "豫继2014-000123", "certificate_year": 2014}
    apply_as_person(rt, person_application(employer, **kept))
    second = person_application(employer, id_number=valid_id("41040219900101002"), **kept)
    with pytest.raises(RegistrationRefused) as refused:
        apply_as_person(rt, second)
    assert (refused.value.code, refused.value.params) == (
        "certificate_number_taken",
        {"number": "豫继2014-000123"},
    )
    with pytest.raises(RegistrationRefused, match="certificate_year_required"):
        third = valid_id("41040219910101003")
        apply_as_person(
            rt, person_application(employer, id_number=third, certificate_number="豫继2013-000001")
        )
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 1


def test_only_the_person_moves_their_own_pending_registration(rt, actor, session_factory, clock):
    from domain.persons.records import Person
    from domain.registration.applications import RegistrationRefused
    from domain.registration.applications import move_person_application

    employer = active_employer(rt, actor, session_factory, clock)
    iid = apply_as_person(rt, person_application(employer))
    with session_factory() as s:
        person = s.scalars(select(Person)).one()
        hr = s.get(Organisation, employer).admin_user_id
    with session_factory() as s, pytest.raises(RegistrationRefused) as someone_else:
        move_person_application(s, person.id, employer, hr)
    assert someone_else.value.code == "not_your_registration"
    hr_step = only_open_task(session_factory, iid).id
    reject_task(rt, hr_actor(session_factory, employer), hr_step, "非本单位职工")
    with session_factory() as s, pytest.raises(RegistrationRefused) as closed:
        move_person_application(s, person.id, employer, person.user_id)
    assert closed.value.code == "application_closed"  # rejected: nothing left to correct
