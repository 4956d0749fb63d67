"""Pingdingshan demo data: HRSS offices, authorities, employers, CE bases, persons, pending work."""

from sqlalchemy import select
from stdnum.cn import ric

from domain.accounts.passwords import hash_password
from domain.accounts.users import User
from domain.calendar.policy import seed_policy_2015
from domain.certificates.numbers import allocate_range
from domain.organisations.records import Organisation
from domain.organisations.shipped_regions import PINGDINGSHAN
from domain.organisations.shipped_regions import PINGDINGSHAN_REGIONS
from domain.registration.applications import OrganisationApplication
from domain.registration.applications import PersonApplication
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from seed.courses import ENROLLED_PROFESSIONAL
from seed.courses import load_demo_courses
from seed.population import PopulationPlan
from seed.population import add_hrss_offices
from seed.population import credit_code
from seed.population import populate
from services.processes import start_process
from services.registration import apply_as_person
from services.registration import apply_for_organisation
from services.supervision import produce_weekly_notices

DEMO_PASSWORD = "demo1234"
SLUGS = {
    "410000": "henan",
    "410400": "pds",
    "410402": "xinhua",
    "410403": "weidong",
    "410404": "shilong",
    "410411": "zhanhe",
    "410421": "baofeng",
    "410422": "yexian",
    "410423": "lushan",
    "410425": "jiaxian",
    "410481": "wugang",
    "410482": "ruzhou",
    "410471": "gaoxin",
    "410472": "shifanqu",
}
DEMO_LOGINS = [
    ("系统管理员 administrator", "admin"),
    ("平顶山市人社局审核员 city HRSS reviewer", "pds-reviewer"),
    ("平顶山市人社局审批人 city HRSS approver", "pds-approver"),
    ("叶县人社局审核员 county HRSS reviewer", "yexian-reviewer"),
    ("鲁山县人社局审核员 county HRSS reviewer", "lushan-reviewer"),
    ("平顶山市教育局 industry authority", "pds-education"),
    ("叶县人民医院人事 employer HR", "yexian-hr"),
    ("鲁山县第一中学人事 employer HR", "lushan-hr"),
    ("平顶山市继续教育基地 CE base", "pds-cebase"),
    ("叶县继续教育基地 county CE base", "yexian-cebase"),
    ("专业技术人员（注册待审） professional (ID number)", "410422198801010018"),
    ("专业技术人员（已报名课程） professional (ID number)", ENROLLED_PROFESSIONAL),
]
COUNTIES = [code for code, _name, level, _parent in PINGDINGSHAN_REGIONS if level == "county"]
PLAN = PopulationPlan(authorities_per_region=1, employers_per_region=24, persons_per_employer=(5, 30))


def load_demo_data(rt: Runtime) -> str:
    """Create the demo records once; a second call changes nothing."""
    with unit_of_work(rt) as session:
        if session.execute(select(User.id).where(User.username == "admin")).first():
            return "demo data already loaded"
        now, password = rt.clock(), hash_password(DEMO_PASSWORD)
        hrss = _hrss_offices(session, now, password)
        named = _named_organisations(session, hrss, now, password)
        report = populate(session, COUNTIES, hrss, PLAN, now, password)
        seed_policy_2015(session, now)
    pending = _pending_work(rt, named)
    filed = load_demo_courses(rt, password)
    notices = produce_weekly_notices(rt)
    return (
        f"demo data loaded: {report.organisations + len(hrss) + len(named)} organisations, "
        f"{report.persons} persons ({report.late_employers} employers behind),"
        f" {pending} pending applications, {filed} filed courses,"
        f" {len(notices)} supervision notices"
    )


def _hrss_offices(session, now, password) -> dict[str, int]:
    offices = add_hrss_offices(session, PINGDINGSHAN_REGIONS, now, "人力资源和社会保障局")
    for code, name, _level, _parent in PINGDINGSHAN_REGIONS:
        for role, title in (("reviewer", "审核员"), ("approver", "审批人")):
            user = User(
                username=f"{SLUGS[code]}-{role}",
                password_hash=password,
                display_name=f"{name}人社局{title}",
                organisation_id=offices[code],
                roles=f"{role},admin" if role == "reviewer" else role,
                created_at=now,
            )
            session.add(user)
            if role == "reviewer":  # the reviewer is the office's one unit admin (R3)
                session.flush()
                session.get(Organisation, offices[code]).admin_user_id = user.id
    session.add(
        User(
            username="admin", password_hash=password, display_name="系统管理员", is_admin=True, created_at=now
        )
    )
    session.flush()
    return offices


def _named_organisations(session, hrss, now, password) -> dict[str, int]:
    """The organisations behind the demo logins."""
    made = {}
    specs = [
        ("pds-education", "authority", "平顶山市教育局", PINGDINGSHAN, "admin,reviewer", None),
        ("pds-cebase", "institution", "平顶山市专业技术人员继续教育基地", PINGDINGSHAN, "admin", None),
        ("yexian-cebase", "institution", "叶县专业技术人员继续教育基地", "410422", "admin", None),
        ("yexian-hr", "employer", "叶县人民医院", "410422", "admin,hr", "pds-education"),
        ("lushan-hr", "employer", "鲁山县第一中学", "410423", "admin,hr", "pds-education"),
    ]
    for username, kind, name, region, roles, authority in specs:
        org = Organisation(
            kind=kind,
            name=name,
            level="city" if region == PINGDINGSHAN else "county",
            region_code=region,
            status="active",
            uscc=None,
            authority_id=made.get(authority),
            expected_persons=60 if kind == "employer" else 0,
            created_at=now,
            activated_at=now,
        )
        session.add(org)
        session.flush()
        org.uscc = credit_code(region, org.id)
        user = User(
            username=username,
            password_hash=password,
            display_name=f"{name}系统管理员",
            organisation_id=org.id,
            roles=roles,
            created_at=now,
        )
        session.add(user)
        session.flush()
        org.admin_user_id = user.id
        made[username] = org.id
        if kind == "employer":
            allocate_range(session, hrss[region], org.id, 100, now)
    return made


def _pending_work(rt: Runtime, named: dict[str, int]) -> int:
    """Applications waiting in inboxes: persons at their employer, organisations at their HRSS."""
    people = [
        ("410422198801010011", "赵一", "intermediate"),
        ("410422199002020022", "钱二", "junior"),
        ("410422198503030033", "孙三", "senior_associate"),
    ]
    for number, name, level in people:
        apply_as_person(
            rt,
            PersonApplication(
                id_number=_valid(number),
                name=name,
                employer_id=named["yexian-hr"],
                title_level=level,
                title_series="卫生技术",
                password=DEMO_PASSWORD,
            ),
        )
    apply_for_organisation(
        rt,
        OrganisationApplication(
            kind="employer",
            name="叶县第二高级中学",
            region_code="410422",
            credit_code=credit_code("410422", 990001),
            admin_username="yx2gz",
            admin_password=DEMO_PASSWORD,
            admin_name="王老师",
            authority_id=named["pds-education"],
            expected_persons=80,
        ),
    )
    for subject, username in (
        ("叶县人民医院2025年度继续教育学时认定", "yexian-hr"),
        ("鲁山县第一中学2025年度继续教育学时认定", "lushan-hr"),
    ):
        _submit_demo_application(rt, username, subject)
    return len(people) + 3


def _valid(number: str) -> str:
    """Return the demo ID number with its real check digit."""
    return number[:17] + ric.calc_check_digit(number[:17] + "0")


def _submit_demo_application(rt: Runtime, username: str, subject: str) -> None:
    """Start a demo approval as the organisation's user and submit its first step, as they would."""
    with unit_of_work(rt, write=False) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    application = {"subject": subject, "description": "本年度专业技术人员继续教育学时认定申请"}
    start_process(rt, "demo_approval", user_id, {"subject": subject}, submit=application)
