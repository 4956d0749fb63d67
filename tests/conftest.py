"""Shared fixtures: a database (SQLite file, or PostgreSQL via TEST_DATABASE_URL), a fake clock, a runtime."""

import os
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

import schema  # noqa: F401  (registers every table on Base.metadata)
from domain.accounts.passwords import configure_hashing
from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.base import Base
from domain.calendar.deadlines import working_days_function
from domain.calendar.holidays import WorkingCalendar
from domain.calendar.holidays import seed_from_package
from domain.calendar.policy import policy_deadline_function
from domain.calendar.policy import review_days_function
from domain.organisations.records import Organisation
from domain.organisations.shipped_regions import seed_regions
from engine.runtime import bootstrap
from engine.runtime.definitions import deploy
from forms.catalog import form_catalog
from handlers.candidates import candidate_rules
from handlers.operations import end_hooks
from handlers.operations import operations
from infra.database import make_engine

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "workflows" / "bpmn"
POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


# Cheap argon2 for the suite (a login costs ~1 ms instead of ~250 ms); production keeps the defaults.
CHEAP_HASHING = {"PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_KIB": 1024, "PASSWORD_PARALLELISM": 1}


def pytest_configure(config):
    """Make every app, CLI subprocess and direct hash in this run use the cheap argon2 settings."""
    for key, value in CHEAP_HASHING.items():
        os.environ.setdefault(f"CEFLOW_{key}", str(value))
    configure_hashing(
        CHEAP_HASHING["PASSWORD_TIME_COST"],
        CHEAP_HASHING["PASSWORD_MEMORY_KIB"],
        CHEAP_HASHING["PASSWORD_PARALLELISM"],
    )


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db')}/ceflow.db"


@pytest.fixture(scope="session")
def db_engine(database_url):
    engine = make_engine(database_url)
    present = MetaData()
    present.reflect(engine)  # every table there, also those of modules this run does not import
    present.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine):
    """A session factory over an emptied database."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db_engine.begin() as conn:
        if db_engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))  # organisation <-> admin user is a cycle
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    return sessionmaker(bind=db_engine, expire_on_commit=False)


@pytest.fixture
def clock() -> FakeClock:
    # a Monday morning in Beijing, a plain working week
    return FakeClock(datetime(2025, 11, 3, 1, 0, tzinfo=UTC))


@pytest.fixture
def world(session_factory, clock):
    """Regions, the HRSS of the city and two counties, their staff, and one applicant."""
    with session_factory() as session, session.begin():
        seed_regions(session)
        seed_from_package(session, range(2024, 2027), clock=clock)
        people = {}
        for code, region_name in [
            ("410400", "平顶山市"),
            ("410422", "叶县"),
            ("410423", "鲁山县"),
            ("410000", "河南省"),
        ]:
            org = Organisation(kind="hrss", name=f"{region_name}人社局", region_code=code, created_at=clock())
            session.add(org)
            session.flush()
            for role in ("reviewer", "approver"):
                user = User(
                    username=f"{code}-{role}",
                    password_hash="x",
                    display_name=f"{region_name}{role}",
                    organisation_id=org.id,
                    roles=role,
                    created_at=clock(),
                )
                session.add(user)
                session.flush()
                people[f"{code}-{role}"] = user.id
        employer = Organisation(
            kind="employer", name="叶县人民医院", region_code="410422", created_at=clock()
        )
        session.add(employer)
        session.flush()
        applicant = User(
            username="applicant",
            password_hash="x",
            display_name="张三",
            organisation_id=employer.id,
            roles="hr",
            created_at=clock(),
        )
        session.add(applicant)
        session.flush()
        people["applicant"] = applicant.id
    return people


@pytest.fixture
def actor(session_factory, world):
    """Return a function: username -> Actor."""

    def get(name: str) -> Actor:
        with session_factory() as session:
            return actor_for(session, world[name])

    return get


@pytest.fixture
def admin(session_factory, clock) -> Actor:
    """An administrator without an organisation, like the demo's."""
    with session_factory() as session, session.begin():
        user = User(
            username="admin", password_hash="x", display_name="系统管理员", is_admin=True, created_at=clock()
        )
        session.add(user)
        session.flush()
        return actor_for(session, user.id)


@pytest.fixture
def rt(session_factory, world, clock):
    """A runtime with the project's registries, the fake clock, and the bundled diagrams deployed."""
    with session_factory() as session:
        calendar = WorkingCalendar.load(session)
    runtime = bootstrap(
        session_factory,
        operations=operations(),
        form_keys=form_catalog().keys(),
        candidate_rules=candidate_rules(),
        clock=clock,
        script_functions={
            "working_days": working_days_function(lambda: calendar),
            "policy_deadline": policy_deadline_function(session_factory),
            "review_days": review_days_function(session_factory),
        },
        end_hooks=end_hooks(),
    )
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        deploy(runtime, path.read_bytes(), path.name, "test")
    return runtime


@pytest.fixture(scope="session")
def explain_in():
    """Return `explain_in(error, lang)`: the message a page shows for a domain or engine error."""
    from flask import Flask
    from flask_babel import Babel

    from webapp.messages import explain

    app = Flask("messages")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "webapp" / "translations")
    chosen = {}
    Babel(app, locale_selector=lambda: chosen["lang"])

    def explain_in(error, lang: str = "zh") -> str:
        chosen["lang"] = lang
        with app.test_request_context():
            return explain(error)

    return explain_in
