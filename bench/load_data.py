"""The load test's data set: a province of organisations and professionals, and sign-in accounts with work.

Built once into its own PostgreSQL database through the app's own set-up (migrations, shipped regions,
bundled diagrams), the bulk population writer (seed.population) and the real services: every open
task is a real workflow instance, so a virtual user's approval runs the engine as a person's would.
A later run reuses the database and only tops up the tasks the previous runs decided.

Accounts, one per virtual user so that no two of them decide the same task:
- load-reviewer-N: a reviewer of a county HRSS; its tasks are demo approvals claimed by it alone;
- load-hr-N: the only HR account of one employer; its queue holds person registrations to that
  employer (the load test's applicants register more while it runs).
"""

import random
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from argon2 import PasswordHasher
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from bench.bulk_rows import analyze
from bench.load_province import province_regions
from domain.accounts.principals import group_principal
from domain.accounts.principals import org_principal
from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.calendar.policy import NOTICE_2015
from domain.calendar.policy import save_policy
from domain.certificates.numbers import allocate_range
from domain.organisations.records import Organisation
from domain.organisations.records import Region
from domain.registration.applications import PersonApplication
from engine.runtime import unit_of_work
from engine.runtime.definitions import deploy
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from seed.population import PopulationPlan
from seed.population import add_hrss_offices
from seed.population import id_number
from seed.population import person_name
from seed.population import populate
from services.processes import start_process
from services.registration import apply_as_person
from services.supervision import produce_weekly_notices
from services.tasks import TaskInput
from services.tasks import act_on_task
from webapp.app import create_app
from webapp.config import load_config
from webapp.extensions import runtime
from webapp.first_start import initialise_database

PASSWORD = "load1234"
REVIEWER = "load-reviewer-{}"
HR = "load-hr-{}"
APPLICANT_SERIALS = 1_000_000  # ID-number serials from here on are free: the population's stop far below


@dataclass(frozen=True)
class Size:
    """How big a province to build, and how many accounts with how much work each."""

    cities: int  # generated cities beside the shipped Pingdingshan (0: Pingdingshan alone)
    counties_per_city: int
    employers_per_county: int
    persons_per_employer: tuple[int, int]
    accounts: int  # reviewers, and as many HR accounts
    tasks_per_account: int  # open tasks each account has before a run
    queued_per_county: int  # unclaimed county-queue tasks besides: what every reviewer's queue lists


SIZES = {
    # the smoke test's: seconds to build
    "tiny": Size(0, 0, 3, (3, 6), accounts=6, tasks_per_account=3, queued_per_county=2),
    # Pingdingshan: 12 counties, about 30,000 professionals
    "city": Size(0, 0, 100, (6, 38), accounts=100, tasks_per_account=8, queued_per_county=40),
    # Henan-shaped: 17 more cities of 10 counties, about 2 million professionals (load_province.py's)
    "province": Size(17, 10, 574, (6, 38), accounts=100, tasks_per_account=8, queued_per_county=20),
}


@dataclass(frozen=True)
class Accounts:
    """Who the virtual users sign in as: usernames by kind, and the HR accounts' employers' regions."""

    reviewers: list[str]
    hr: list[str]
    employers: list[tuple[int, str]]  # (employer id, county) of each HR account, in the same order


def builder_app(database_url: str) -> Flask:
    """Return the app the builder runs the services in: cheap password hashes for made-up applicants."""
    return create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "load-test-builder",
            "PASSWORD_TIME_COST": 1,
            "PASSWORD_MEMORY_KIB": 1024,
            "PASSWORD_PARALLELISM": 1,
        }
    )


def prepare(database_url: str, size: Size, log=print) -> Accounts:
    """Build the data set when the database is empty; top up every account's open tasks; return them."""
    app = builder_app(database_url)
    with app.app_context():
        rt = runtime()
        built = _built(rt)
        upgrade()  # a database built by an earlier version gets this one's migrations
        if built:
            _redeploy_changed_diagrams(rt, app.config["BPMN_DIR"])
        if not built:
            started = time.perf_counter()
            initialise_database(rt, app.config)
            counts = _populate(rt, size)
            log(f"built {counts} in {time.perf_counter() - started:.0f} s")
        accounts = _accounts(rt, size)
        started = time.perf_counter()
        added = top_up(rt, accounts, size)
        if added:
            analyze(rt.engine)
            log(f"topped up {added} open tasks in {time.perf_counter() - started:.0f} s")
        return accounts


def _built(rt) -> bool:
    with rt.engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('user_account')")).scalar():
            return False
        return conn.execute(select(User.id).where(User.username == HR.format(1))).first() is not None


def _populate(rt, size: Size) -> str:
    """Write the regions' HRSS offices, the population, the accounts, and the supervision notices."""
    now = rt.clock()
    with unit_of_work(rt) as session:
        known = set(session.scalars(select(Region.code)))
        extra = [r for r in province_regions(size.cities, size.counties_per_city) if r[0] not in known]
        for code, name, level, parent in extra if size.cities else ():
            session.add(Region(code=code, name=name, level=level, parent_code=parent))
        session.flush()
        regions = [(r.code, r.name, r.level, r.parent_code) for r in session.scalars(select(Region))]
        hrss = add_hrss_offices(session, regions, now, "人力资源和社会保障局")
        counties = sorted(code for code, _n, level, _p in regions if level == "county")
        plan = PopulationPlan(
            authorities_per_region=2,
            employers_per_region=size.employers_per_county,
            persons_per_employer=size.persons_per_employer,
        )
        report = populate(
            session, counties, hrss, plan, now, "not-a-hash: population accounts sign in nowhere"
        )
        for city in (code for code, _n, level, _p in regions if level == "city"):
            _calendar(session, city, now)
        _add_accounts(session, size, counties, hrss, now)
    analyze(rt.engine)
    notices = produce_weekly_notices(rt)
    return (
        f"{report.organisations} organisations, {report.persons} persons, {len(notices)} supervision notices"
    )


def _calendar(session, city: str, now: datetime) -> None:
    """Give the city the 2015 notice's deadlines for this year, so due dates apply everywhere."""
    values = {
        name: datetime(now.year, *value).date() if isinstance(value, tuple) else value
        for name, value in NOTICE_2015.items()
    }
    save_policy(session, now.year, city, values, "load", now)


def _add_accounts(session, size: Size, counties: list[str], hrss: dict[str, int], now: datetime) -> None:
    """Add the reviewers (spread over the counties) and one HR account each to as many employers."""
    costs = load_config()  # the configured cost (production's by default): signing in costs what it will
    password = PasswordHasher(
        time_cost=costs["PASSWORD_TIME_COST"],
        memory_cost=costs["PASSWORD_MEMORY_KIB"],
        parallelism=costs["PASSWORD_PARALLELISM"],
    ).hash(PASSWORD)
    employers = session.execute(
        select(Organisation.id, Organisation.region_code)
        .where(Organisation.kind == "employer")
        .order_by(Organisation.region_code, Organisation.id)
    ).all()
    by_county: dict[str, list[int]] = {}
    for employer_id, county in employers:
        by_county.setdefault(county, []).append(employer_id)
    spread = [
        by_county[c][n] for n in range(size.accounts) for c in counties if n < len(by_county.get(c, []))
    ]
    for n in range(size.accounts):
        county = counties[n % len(counties)]
        session.add(_account(REVIEWER.format(n + 1), hrss[county], "reviewer", password, now))
        employer_id = spread[n]
        session.add(_account(HR.format(n + 1), employer_id, "hr", password, now))
        allocate_range(session, hrss[county], employer_id, 1000, now)  # numbers for the persons HR approves


def _account(username: str, organisation_id: int, roles: str, password: str, now: datetime) -> User:
    return User(
        username=username,
        password_hash=password,
        display_name=f"压测{username.rsplit('-', 1)[-1]}号",
        organisation_id=organisation_id,
        roles=roles,
        created_at=now,
    )


def _accounts(rt, size: Size) -> Accounts:
    names = [kind.format(n + 1) for kind in (REVIEWER, HR) for n in range(size.accounts)]
    with unit_of_work(rt, write=False) as session:
        rows = session.execute(  # by name: a LIKE 'load-%' would read two million accounts
            select(User.username, Organisation.id, Organisation.region_code)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(User.username.in_(names))
        ).all()
    number = lambda row: int(row[0].rsplit("-", 1)[1])  # noqa: E731
    reviewers = sorted((r for r in rows if r[0].startswith("load-reviewer-")), key=number)
    hr = sorted((r for r in rows if r[0].startswith("load-hr-")), key=number)
    return Accounts([r[0] for r in reviewers], [r[0] for r in hr], [(r[1], r[2]) for r in hr])


def _redeploy_changed_diagrams(rt, bpmn_dir: str) -> None:
    """Deploy the bundled diagrams that changed since the data set was built (a start rule, say);
    an unchanged diagram is not stored again."""
    for path in sorted(Path(bpmn_dir).glob("*.bpmn")):
        deploy(rt, path.read_bytes(), path.name, "bench")


def top_up(rt, accounts: Accounts, size: Size) -> int:
    """Start real applications until every account has its open tasks and every county queue its own."""
    rng = random.Random(time.time_ns())
    added = 0
    with unit_of_work(rt, write=False) as session:
        names = [*accounts.reviewers, *accounts.hr]
        users = dict(session.execute(select(User.username, User.id).where(User.username.in_(names))).all())
        # an employer's HR starts the demo approvals: the diagram's start rule lets no professional start one
        applicant = users[accounts.hr[0]]
        mine = dict(
            session.execute(
                select(HumanTask.assignee_id, func.count())
                .where(HumanTask.state == "open", HumanTask.assignee_id.is_not(None))
                .group_by(HumanTask.assignee_id)
            ).all()
        )
        queued = dict(
            session.execute(
                select(HumanTaskCandidate.principal, func.count()).group_by(HumanTaskCandidate.principal)
            ).all()
        )
        counties = sorted(session.scalars(select(Region.code).where(Region.level == "county")))
    for username in accounts.reviewers:
        reviewer = actor_for_user(rt, users[username])
        for _ in range(size.tasks_per_account - mine.get(reviewer.id, 0)):
            task_id = _demo_application(rt, applicant, reviewer.region_code)
            act_on_task(rt, reviewer, "claim", task_id, TaskInput())
            added += 1
    for county in counties:
        for _ in range(size.queued_per_county - queued.get(group_principal("hrss", county, "reviewer"), 0)):
            _demo_application(rt, applicant, county)
            added += 1
    for employer_id, county in accounts.employers:
        for _ in range(size.tasks_per_account - queued.get(org_principal(employer_id, "hr"), 0)):
            apply_as_person(rt, applicant_for(employer_id, county, rng))
            added += 1
    return added


def actor_for_user(rt, user_id: int):
    with unit_of_work(rt, write=False) as session:
        return actor_for(session, user_id)


def _demo_application(rt, applicant: int, county: str) -> int:
    """Start and submit a demo approval in the county; return its county review task."""
    subject = f"{county}继续教育学时认定申请"
    instance_id = start_process(
        rt,
        "demo_approval",
        applicant,
        {"subject": subject, "region_code": county},
        submit={"subject": subject, "description": "压测申请"},
    )
    with unit_of_work(rt, write=False) as session:
        return session.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        )


def applicant_for(employer_id: int, county: str, rng: random.Random) -> PersonApplication:
    """Return a made-up professional's registration with the employer, under an unused ID number."""
    return PersonApplication(
        id_number=id_number(county, APPLICANT_SERIALS + rng.randrange(13_000_000)),
        name=person_name(rng),
        employer_id=employer_id,
        title_level="intermediate",
        title_series="工程技术",
        password=PASSWORD,
    )
