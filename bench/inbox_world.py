"""The inbox benchmark's province: regions, one HRSS office each, employers, staff and applicants."""

import random
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from bench.bulk_rows import BulkWriter
from domain.accounts.users import User
from domain.organisations.records import Organisation
from domain.organisations.records import Region
from seed.population import person_name

PROVINCE = "410000"
STAFF = {"county": ("reviewer", 10), "city": ("approver", 30), "province": ("reviewer", 40)}  # per office


@dataclass(frozen=True)
class Plan:
    """How big a province to build."""

    cities: int = 17
    counties_per_city: int = 9
    users: int = 100_000
    open_tasks: int = 1_000_000
    done_tasks: int = 300_000
    copies: int = 60_000
    employers_per_county: int = 20
    seed: int = 4


QUICK_PLAN = Plan(cities=1, users=2_000, open_tasks=20_000, done_tasks=6_000, copies=1_200)


@dataclass(frozen=True)
class Staff:
    """One HRSS staff member: the office's level and region, and the role they hold."""

    user_id: int
    org_id: int
    level: str
    region: str
    role: str


@dataclass
class World:
    """What was built, for the benchmark to pick its users from."""

    staff: list[Staff] = field(default_factory=list)
    employers: list[tuple[int, str]] = field(default_factory=list)  # (id, county)
    applicants: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    counties: list[str] = field(default_factory=list)
    tasks: int = 0
    users: int = 0


def regions(plan: Plan) -> list[tuple[str, str, str | None]]:
    rows = [(PROVINCE, "province", None)]
    for city in range(1, plan.cities + 1):
        code = f"41{city:02d}00"
        rows.append((code, "city", PROVINCE))
        rows += [(f"41{city:02d}{c:02d}", "county", code) for c in range(2, 2 + plan.counties_per_city)]
    return rows


def people(writer: BulkWriter, plan: Plan, rng: random.Random, now: datetime) -> World:
    """Write the regions, one HRSS per region, the employers, and every user account."""
    world = World()
    found = regions(plan)
    writer.rows(
        Region.__table__,
        ({"code": c, "name": f"地区{c}", "level": lv, "parent_code": p} for c, lv, p in found),
    )
    orgs, users, org_id = [], [], 0
    for code, level, _parent in found:
        org_id += 1
        orgs.append(_org(org_id, "hrss", level, code, now))
        role, count = STAFF[level]
        for _ in range(count):
            world.staff.append(Staff(len(users) + 1, org_id, level, code, role))
            users.append(_user(len(users) + 1, org_id, role, rng, now))
    world.counties = [code for code, level, _ in found if level == "county"]
    for county in world.counties:
        for _ in range(plan.employers_per_county):
            org_id += 1
            orgs.append(_org(org_id, "employer", "county", county, now))
            world.employers.append((org_id, county))
            for _ in range(2):
                users.append(_user(len(users) + 1, org_id, "hr", rng, now))
    while len(users) < plan.users:
        employer, _county = rng.choice(world.employers)
        world.applicants.append(len(users) + 1)
        users.append(_user(len(users) + 1, employer, "", rng, now))
    writer.rows(Organisation.__table__, orgs)
    writer.rows(User.__table__, users)
    world.names = {u["id"]: u["display_name"] for u in users}
    world.users = len(users)
    return world


def _org(org_id: int, kind: str, level: str, region: str, now: datetime) -> dict:
    name = f"{region}人社局" if kind == "hrss" else f"{region}第{org_id}单位"
    return {
        "id": org_id,
        "kind": kind,
        "name": name,
        "level": level,
        "region_code": region,
        "status": "active",
        "expected_persons": 0,
        "created_at": now,
    }


def _user(user_id: int, org_id: int, roles: str, rng: random.Random, now: datetime) -> dict:
    return {
        "id": user_id,
        "username": f"user{user_id}",
        "password_hash": "not-a-hash",
        "display_name": person_name(rng),
        "organisation_id": org_id,
        "roles": roles,
        "is_admin": False,
        "active": True,
        "created_at": now,
    }
