"""Supervision notices (督导通报, R4): who is late, in whose jurisdiction, produced once per period."""

import email
import email.policy
import socket
import threading
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from io import BytesIO
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from apscheduler.triggers.cron import CronTrigger
from openpyxl import load_workbook
from sqlalchemy import func
from sqlalchemy import select

from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.calendar.policy import seed_policy_2015
from domain.notices.records import Notice
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.records import Organisation
from domain.organisations.shipped_regions import seed_regions
from domain.persons.records import Person
from domain.supervision.documents import HEADER
from domain.supervision.documents import issue_label
from domain.supervision.documents import supervision_workbook
from domain.supervision.notices import SupervisionNotice
from domain.supervision.notices import insert_once
from domain.supervision.notices import produce_supervision_notices
from domain.supervision.notices import supervision_period
from domain.supervision.reports import supervision_notice
from domain.supervision.reports import supervision_notices_for
from infra.mail import SmtpMailer
from webapp.config import load_config
from webapp.scheduler import crontab_weekdays
from webapp.scheduler import supervise
from webapp.scheduler import supervision_trigger

PERIOD = "2025-W45"  # the conftest clock: Monday 2025-11-03, after every 2025 registration deadline


class RecordingHandler:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


class FailingMailer:
    """A mailer that is down."""

    def send(self, to, subject, body, attachments=()):
        raise ConnectionRefusedError("the relay is down")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1; yields (port, handler)."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, handler
    controller.stop()


def wait_for(handler, count: int, seconds: float = 5.0) -> list:
    """Return the messages once `count` arrived (delivery ends a moment after the client returns)."""
    deadline = time.monotonic() + seconds
    while len(handler.messages) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # and let any unexpected extra one arrive
    return handler.messages


def add_org(session, clock, kind, name, region, status="active", expected=0, admin=None) -> Organisation:
    org = Organisation(
        kind=kind,
        name=name,
        region_code=region,
        level="city" if region == "410400" else "county",
        status=status,
        expected_persons=expected,
        created_at=clock(),
    )
    session.add(org)
    session.flush()
    if admin:
        user = User(
            username=admin, password_hash="x", display_name=admin, organisation_id=org.id, created_at=clock()
        )
        session.add(user)
        session.flush()
        org.admin_user_id = user.id
    return org


def add_persons(session, clock, employer, count, status="active") -> None:
    for _ in range(count):
        number = session.scalar(select(func.count()).select_from(Person)) + 1
        session.add(
            Person(
                id_number=f"41042219800101{number:04d}",
                name=f"人员{number}",
                gender="M",
                birth_date=date(1980, 1, 1),
                employer_id=employer.id,
                region_code=employer.region_code,
                title_level="intermediate",
                status=status,
                created_at=clock(),
            )
        )
        session.flush()


@pytest.fixture
def city(session_factory, clock):
    """Pingdingshan with its 2025 calendar: the city and 叶县 HRSS, one late and one on-time employer..."""
    with session_factory() as session, session.begin():
        seed_regions(session)
        seed_policy_2015(session, clock())
        ids = {
            "city": add_org(session, clock, "hrss", "平顶山市人社局", "410400").id,
            "county": add_org(session, clock, "hrss", "叶县人社局", "410422").id,
        }
        late = add_org(session, clock, "employer", "叶县人民医院", "410422", expected=10, admin="hospital")
        add_persons(session, clock, late, 3)
        add_persons(session, clock, late, 2, status="pending")  # not registered yet: not counted
        on_time = add_org(session, clock, "employer", "叶县第一中学", "410422", expected=2, admin="school")
        add_persons(session, clock, on_time, 2)
        authority = add_org(
            session, clock, "authority", "平顶山市卫生健康委员会", "410400", "pending", admin="health"
        )
        base = add_org(
            session, clock, "institution", "鲁山县继续教育基地", "410423", "returned", admin="base"
        )
        add_org(
            session, clock, "employer", "鲁山县某公司", "410423", "rejected", expected=5
        )  # no longer applies
        ids.update(late=late.id, on_time=on_time.id, authority=authority.id, base=base.id)
        ids.update({u.username: u.id for u in session.scalars(select(User))})
    return ids


def notice_of(session_factory, hrss_id, period=PERIOD) -> SupervisionNotice:
    with session_factory() as session:
        return session.scalar(
            select(SupervisionNotice).where(
                SupervisionNotice.hrss_id == hrss_id, SupervisionNotice.period == period
            )
        )


def listed(notice) -> dict[str, list[str]]:
    return {r["code"]: [o["name"] for o in r["organisations"]] for r in notice.details["regions"]}


def produce(session_factory, now, mailer=None, recipients=(), period=PERIOD) -> list[int]:
    with session_factory() as session:
        session.connection(execution_options={"ceflow_write": True})
        ids = produce_supervision_notices(session, period, now, mailer, recipients)
        session.commit()
    return ids


def test_the_county_notice_lists_only_its_own_late_organisations(session_factory, clock, city):
    produce(session_factory, clock())
    county = notice_of(session_factory, city["county"])
    assert listed(county) == {"410422": ["叶县人民医院"]}
    assert county.late_count == 1
    [hospital] = county.details["regions"][0]["organisations"]
    assert (hospital["expected"], hospital["registered"], hospital["shortfall"]) == (10, 3, 7)
    assert hospital["missed"] == {"person_registration": "2025-04-15"}
    assert "应注册10人，已注册3人" in county.summary


def test_the_city_notice_lists_every_region_below_it_by_region(session_factory, clock, city):
    produce(session_factory, clock())
    notice = notice_of(session_factory, city["city"])
    assert listed(notice) == {
        "410400": ["平顶山市卫生健康委员会"],
        "410422": ["叶县人民医院"],
        "410423": ["鲁山县继续教育基地"],
    }
    assert notice.late_count == 3
    assert notice.title == f"平顶山市人社局继续教育注册工作督导通报（{PERIOD}）"
    assert "2家单位逾期未完成单位注册，1家单位专业技术人员未按期注册齐全" in notice.summary
    authority = notice.details["regions"][0]["organisations"][0]
    assert (authority["status"], authority["missed"]) == ("pending", {"org_registration": "2025-03-20"})


def test_nothing_is_late_before_the_deadlines(session_factory, clock, city):
    assert produce(session_factory, datetime(2025, 3, 20, 15, 0, tzinfo=UTC)) == []  # 23:00 on 03-20


def test_between_the_two_deadlines_only_unregistered_organisations_are_late(session_factory, clock, city):
    produce(session_factory, datetime(2025, 4, 1, 1, 0, tzinfo=UTC), period="2025-W14")
    assert notice_of(session_factory, city["county"], "2025-W14") is None
    assert listed(notice_of(session_factory, city["city"], "2025-W14")) == {
        "410400": ["平顶山市卫生健康委员会"],
        "410423": ["鲁山县继续教育基地"],
    }


def test_the_hrss_groups_and_each_late_unit_admin_are_told_once(session_factory, clock, city):
    produce(session_factory, clock())
    with session_factory() as session:
        recipients = sorted(session.scalars(select(Notice.recipient)))
        hospital = session.scalar(select(Notice).where(Notice.recipient == f"u:{city['hospital']}"))
    assert recipients == sorted(
        [
            "g:hrss:410400:reviewer",
            "g:hrss:410400:approver",
            "g:hrss:410422:reviewer",
            "g:hrss:410422:approver",
            f"u:{city['hospital']}",  # told by 叶县, its own HRSS, not again by the city
            f"u:{city['health']}",
            f"u:{city['base']}",  # 鲁山县 has no HRSS in the system: the city tells it
        ]
    )
    assert "应注册10人，已注册3人，尚差7人" in hospital.body
    assert hospital.kind == "supervision"


def test_a_notice_is_produced_once_per_period(session_factory, clock, city):
    first = produce(session_factory, clock())
    again = produce(session_factory, clock.advance(hours=3))
    next_week = produce(session_factory, clock.advance(days=7), period=supervision_period(clock()))
    assert len(first) == 2 and again == [] and len(next_week) == 2
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SupervisionNotice)) == 4
        assert session.scalar(select(func.count()).select_from(Notice)) == 14


def test_a_transaction_that_lost_the_insert_skips_it_and_carries_on(session_factory, clock, city):
    with session_factory() as session, session.begin():
        won = insert_once(session, SupervisionNotice(**notice_fields(city["county"], clock())))
    with session_factory() as session:
        session.connection(execution_options={"ceflow_write": True})
        lost = insert_once(session, SupervisionNotice(**notice_fields(city["county"], clock())))
        session.add(Notice(recipient="u:1", kind="test", title="still usable", created_at=clock()))
        session.commit()
    assert (won, lost) == (True, False)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SupervisionNotice)) == 1
        assert session.scalar(select(Notice.title)) == "still usable"


def notice_fields(hrss_id, now) -> dict:
    return dict(
        hrss_id=hrss_id, period=PERIOD, created_at=now, title="t", summary="s", late_count=0, details={}
    )


def race(*calls):
    """Run the calls at the same moment in threads; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_schedulers_at_the_same_moment_produce_each_notice_once(
    session_factory, clock, city, smtp, attempt
):
    port, handler = smtp
    mailer = SmtpMailer("127.0.0.1", port, "ceflow@pds.example")
    outcomes = race(*[lambda: produce(session_factory, clock(), mailer, ["hrss@pds.example"])] * 2)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(len(o) for o in outcomes) in ([0, 2], [1, 1])  # every notice won by exactly one
    with session_factory() as session:
        hrss_ids = sorted(session.scalars(select(SupervisionNotice.hrss_id)))
        notices = session.scalar(select(func.count()).select_from(Notice))
    assert hrss_ids == sorted([city["city"], city["county"]])
    assert notices == 7
    assert len(wait_for(handler, 2)) == 2


def test_each_produced_notice_is_mailed_once_with_its_workbook(session_factory, clock, city, smtp):
    port, handler = smtp
    produce(
        session_factory,
        clock(),
        SmtpMailer("127.0.0.1", port, "ceflow@pds.example"),
        ["hrss@pds.example", "chief@pds.example"],
    )
    produce(
        session_factory, clock(), SmtpMailer("127.0.0.1", port, "ceflow@pds.example"), ["hrss@pds.example"]
    )
    messages = wait_for(handler, 2)
    assert len(messages) == 2  # and none from the second run
    subjects = sorted(str(m["Subject"]) for _, m in messages)
    assert subjects == sorted(
        [
            f"叶县人社局继续教育注册工作督导通报（{PERIOD}）",
            f"平顶山市人社局继续教育注册工作督导通报（{PERIOD}）",
        ]
    )
    to, city_mail = next((to, m) for to, m in messages if "平顶山" in str(m["Subject"]))
    assert to == ["hrss@pds.example", "chief@pds.example"]
    assert (
        "叶县人民医院（法人单位，已注册）：应注册10人，已注册3人，差额7人"
        in city_mail.get_body().get_content()
    )
    [attachment] = list(city_mail.iter_attachments())
    assert attachment.get_filename().endswith(".xlsx") and attachment.get_filename().startswith("督导通报")
    sheet = load_workbook(BytesIO(attachment.get_content())).active
    assert sheet.max_row == 3 + 3 + 1  # title, facts, header; three late organisations; the total


def test_nothing_is_mailed_when_the_transaction_rolls_back(session_factory, clock, city, smtp):
    port, handler = smtp
    with session_factory() as session:
        assert produce_supervision_notices(
            session,
            PERIOD,
            clock(),
            SmtpMailer("127.0.0.1", port, "ceflow@pds.example"),
            ["hrss@pds.example"],
        )
        session.rollback()
    assert wait_for(handler, 1, seconds=0.5) == []
    assert produce(session_factory, clock()) != []  # and the period is still open


def test_mail_waits_for_the_outer_commit_not_a_savepoint(session_factory, clock, city, smtp):
    port, handler = smtp
    mailer = SmtpMailer("127.0.0.1", port, "ceflow@pds.example")
    with session_factory() as session:
        produce_supervision_notices(session, PERIOD, clock(), mailer, ["hrss@pds.example"])
        with session.begin_nested():
            session.add(Notice(recipient="u:1", kind="test", title="later work", created_at=clock()))
        assert wait_for(handler, 1, seconds=0.3) == []
        session.commit()
    assert len(wait_for(handler, 2)) == 2


def test_a_mail_failure_keeps_the_notices(session_factory, clock, city):
    assert len(produce(session_factory, clock(), FailingMailer(), ["hrss@pds.example"])) == 2
    assert notice_of(session_factory, city["city"]) is not None


def test_the_workbook_has_a_title_a_chinese_header_and_a_row_per_late_organisation(
    session_factory, clock, city
):
    produce(session_factory, clock())
    notice = notice_of(session_factory, city["city"])
    book = load_workbook(BytesIO(supervision_workbook(notice)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "督导通报"
    assert rows[0][0] == notice.title
    assert rows[1][0] == f"期号：{issue_label(notice.period)}　发布日期：2025-11-03　数据截至：2025-11-03"
    assert rows[2] == HEADER
    assert rows[3:] == [
        ("平顶山市", "平顶山市卫生健康委员会", "行业主管部门", "待审核", 0, 0, 0),
        ("叶县", "叶县人民医院", "法人单位", "已注册", 10, 3, 7),
        ("鲁山县", "鲁山县继续教育基地", "施教机构", "退回修改", 0, 0, 0),
        ("合计", "3家单位", None, None, 10, 3, 7),
    ]
    with_office = load_workbook(BytesIO(supervision_workbook(notice, "平顶山市人社局"))).active
    assert with_office["A2"].value.startswith("发文单位：平顶山市人社局　期号：")


def test_the_issue_is_numbered_by_year_and_week():
    assert issue_label("2025-W05") == "2025年第5期" and issue_label("2025-W45") == "2025年第45期"


def add_notice(session, hrss_id, period, created_at, named=()) -> int:
    """Store a notice of an HRSS that lists the organisations `named` (ids) as late."""
    organisations = [{"id": org_id, "name": f"单位{org_id}"} for org_id in named]
    details = {"regions": [{"code": "410422", "name": "叶县", "organisations": organisations}]}
    notice = SupervisionNotice(**{**notice_fields(hrss_id, created_at), "period": period, "details": details})
    session.add(notice)
    session.flush()
    return notice.id


def hrss_actor(hrss_id, region_code) -> Actor:
    return Actor(0, "人社局审核员", (), region_code, hrss_id, organisation_kind="hrss")


def test_an_organisation_finds_the_notice_naming_it_behind_many_newer_ones_that_do_not(
    session_factory, clock, city
):
    with session_factory() as session, session.begin():
        old = add_notice(session, city["county"], "2025-W01", clock() - timedelta(days=60), [city["late"]])
        for week in range(2, 12):  # more than four pages of two notices that name someone else
            add_notice(
                session,
                city["city"],
                f"2025-W{week:02d}",
                clock() - timedelta(days=60 - week),
                [city["on_time"]],
            )
    with session_factory() as session:
        hospital = actor_for(session, city["hospital"])
        school = actor_for(session, city["school"])
        assert [n.id for n in supervision_notices_for(session, hospital, limit=2)] == [old]
        assert [n.period for n in supervision_notices_for(session, school, limit=3)] == [
            "2025-W11",
            "2025-W10",
            "2025-W09",
        ]
        assert supervision_notice(session, hospital, old).period == "2025-W01"
        with pytest.raises(NotVisible):
            supervision_notice(session, school, old)


def test_an_hrss_reads_the_notices_of_its_region_and_below(session_factory, clock, city):
    produce(session_factory, clock())
    city_notice, county_notice = (
        notice_of(session_factory, city["city"]),
        notice_of(session_factory, city["county"]),
    )
    with session_factory() as session:
        county = hrss_actor(city["county"], "410422")
        pds = hrss_actor(city["city"], "410400")
        assert [n.id for n in supervision_notices_for(session, county)] == [county_notice.id]
        assert {n.id for n in supervision_notices_for(session, pds)} == {city_notice.id, county_notice.id}
        first = {n.id for n in supervision_notices_for(session, pds, limit=1)}
        assert len(first) == 1 and first < {city_notice.id, county_notice.id}
        with pytest.raises(NotVisible):
            supervision_notice(session, county, city_notice.id)
        assert supervision_notice(session, pds, county_notice.id).hrss_id == city["county"]


def test_the_period_is_the_iso_week_in_beijing():
    assert supervision_period(datetime(2026, 11, 23, 0, 30, tzinfo=UTC)) == "2026-W48"
    assert (
        supervision_period(datetime(2026, 11, 29, 16, 30, tzinfo=UTC)) == "2026-W49"
    )  # Monday 00:30 Beijing


def test_the_scheduler_job_produces_and_mails_this_weeks_notices(
    db_engine, session_factory, clock, city, smtp
):
    port, handler = smtp
    config = load_config(
        {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_SUPERVISION_TO": " hrss@pds.example, "},
        environ={},
    )
    runtime = SimpleNamespace(engine=db_engine, session_factory=session_factory, clock=clock)
    produced = supervise(runtime, config)
    assert len(produced) == 2 and supervise(runtime, config) == []
    assert notice_of(session_factory, city["county"], supervision_period(clock())) is not None
    assert [to for to, _ in wait_for(handler, 2)] == [["hrss@pds.example"]] * 2


def test_the_job_runs_mondays_at_eight_beijing_time_by_default():
    trigger = supervision_trigger(load_config(environ={}))
    assert isinstance(trigger, CronTrigger) and str(trigger.timezone) == "Asia/Shanghai"
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, sunday) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # not Tuesday
    assert supervision_trigger({"SUPERVISION_CRON": ""}) is None
    with pytest.raises(ValueError, match="SUPERVISION_CRON 'every monday' .* needs 5 fields"):
        supervision_trigger({"SUPERVISION_CRON": "every monday"})


@pytest.mark.parametrize(
    "field, names",
    [("1", "mon"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("*/2", "sun,tue,thu,sat"),
     ("mon-fri", "mon-fri"), ("*", "*")],
)  # fmt: skip
def test_crontab_weekday_numbers_keep_their_crontab_meaning(field, names):
    assert crontab_weekdays(field) == names
