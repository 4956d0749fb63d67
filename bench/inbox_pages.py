"""The inbox pages the benchmark times, each three ways: the JSON API, the engine call, the bare SQL.

The bare SQL is what a person would write by hand for the same page over the same indexes: one
ORDER BY ... LIMIT range scan per principal, merged, then the page's rows; counts stop at the cap.
"""

import random
import re
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.inbox_world import World
from domain.accounts.users import Actor
from domain.accounts.users import actor_for
from engine.inbox.list_query import parse_query
from engine.inbox.queries import CAP
from engine.inbox.queries import ORDERS
from engine.inbox.queries import inbox_counts
from engine.inbox.queries import list_tasks
from engine.runtime.models import HumanTask
from infra.keyset import decode_cursor
from seed.population import SURNAMES

PAGE = 20
DEEP_ROWS = 1000  # the deep page starts after 50 pages of 20
PAGES = ("first_page", "queue_page", "filtered_page", "applicant_page", "deep_page", "newest_page", "counts")
FILTER_DAYS = 7
COLUMNS = (
    "id, name, subject, process_key, instance_id, region_code, assignee_id, created_at, due_at, "
    "due_sort, priority, escalation_level, state, completed_at, completed_by_name, outcome"
)


@dataclass(frozen=True)
class Case:
    """One request of a page: who asks, with which list parameters, from which cursor."""

    page: str
    actor: Actor
    args: dict
    cursor: str | None = None

    def url(self) -> str:
        """Return the JSON API address of this request."""
        if self.page == "counts":
            return "/api/inbox/counts"
        args = {**self.args, **({"cursor": self.cursor} if self.cursor else {})}
        return f"/api/inbox/tasks?{urlencode(args)}"

    def run_engine(self, session: Session, now: datetime):
        """Make the engine call the view makes, and return what it returned."""
        if self.page == "counts":
            return inbox_counts(session, self.actor)
        return list_tasks(session, self.actor, parse_query(self.args), now, self.cursor, PAGE)

    def bare(self, now: datetime) -> tuple[str, dict]:
        """Return the hand-written SQL of the same page and its parameters (datetimes still Python)."""
        user = {"user": self.actor.id}
        if self.page == "counts":
            return _bare_counts(self.actor.principals), user | _principals(self.actor.principals)
        if self.page == "first_page":
            mine = "assignee_id = :user AND state = 'open'"
            return (
                f"SELECT {COLUMNS} FROM human_task WHERE {mine} ORDER BY due_sort, id LIMIT {PAGE + 1}",
                user,
            )
        return _bare_queue(self, now)


def _principals(principals) -> dict:
    return {f"p{n}": p for n, p in enumerate(principals)}


def _bare_queue(case: Case, now: datetime) -> tuple[str, dict]:
    """One limited index range per principal (with the page's filters), merged, then the page."""
    params = _principals(case.actor.principals)
    where, join = [], ""
    if case.page == "filtered_page":
        join = " JOIN human_task t ON t.id = c.human_task_id"
        where += ["c.due_sort >= :now", "c.due_sort < :until", "t.region_code = :region"]
        params |= {"now": now, "until": now + timedelta(days=FILTER_DAYS), "region": case.args["region"]}
    if case.page == "applicant_page":
        join = " JOIN human_task t ON t.id = c.human_task_id"
        where.append(
            "EXISTS (SELECT 1 FROM process_instance i JOIN user_account u ON u.id = i.initiator_id"
            " WHERE i.id = t.instance_id AND u.display_name LIKE :prefix)"
        )
        params["prefix"] = case.args["applicant"] + "%"
    if case.cursor:
        due, task_id = decode_cursor(case.cursor, ORDERS["due"], "due")
        where.append(
            "c.due_sort >= :after_due AND (c.due_sort > :after_due"
            " OR (c.due_sort = :after_due AND c.human_task_id > :after_id))"
        )
        params |= {"after_due": due, "after_id": task_id}
    inner, outer = "c.due_sort, c.human_task_id", "due_sort, id"
    if case.page == "newest_page":
        inner, outer = "c.created_at DESC, c.human_task_id DESC", "created_at DESC, id DESC"
    branches = [
        f"SELECT human_task_id FROM (SELECT c.human_task_id FROM human_task_candidate c{join}"
        f" WHERE {' AND '.join([f'c.principal = :p{n}', *where])}"
        f" ORDER BY {inner} LIMIT {PAGE + 1}) q{n}"
        for n in range(len(case.actor.principals))
    ]
    merged = " UNION ALL ".join(branches)
    sql = f"SELECT {COLUMNS} FROM human_task WHERE id IN ({merged}) ORDER BY {outer} LIMIT {PAGE + 1}"
    return sql, params


def _bare_counts(principals) -> str:
    """Every badge in one statement, each count a scan of at most CAP + 1 index entries."""
    cap = CAP + 1
    queued = " UNION ".join(
        f"SELECT human_task_id FROM (SELECT human_task_id FROM human_task_candidate"
        f" WHERE principal = :p{n} LIMIT {cap}) q{n}"
        for n in range(len(principals))
    )
    copies = " UNION ".join(
        f"SELECT id FROM (SELECT id FROM task_cc WHERE principal = :p{n} AND read_at IS NULL"
        f" LIMIT {cap}) c{n}"
        for n in range(len(principals))
    )
    return (
        "SELECT"
        f" (SELECT count(*) FROM (SELECT id FROM human_task WHERE assignee_id = :user AND state = 'open'"
        f" LIMIT {cap}) a),"
        f" (SELECT count(*) FROM ({queued}) b),"
        f" (SELECT count(*) FROM (SELECT id FROM human_task WHERE completed_by_id = :user LIMIT {cap}) d),"
        f" (SELECT count(*) FROM (SELECT id FROM process_instance WHERE initiator_id = :user"
        f" AND status = 'running' LIMIT {cap}) s),"
        f" (SELECT count(*) FROM ({copies}) e)"
    )


class BareRunner:
    """Run bare SQL through the driver's own connection: no SQLAlchemy between the call and the database."""

    def __init__(self, db: Engine):
        self.pooled = db.raw_connection()
        self.driver = self.pooled.driver_connection
        self.dialect = db.dialect
        self.postgres = db.dialect.name == "postgresql"
        if self.postgres:
            self.driver.autocommit = True
        self.stamp = HumanTask.__table__.c.due_sort.type.dialect_impl(db.dialect).bind_processor(db.dialect)

    def run(self, sql: str, params: dict) -> list:
        """Execute one statement and fetch every row."""
        if self.postgres:
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        else:  # SQLite stores datetimes as text: bind them as SQLAlchemy would
            params = {k: self.stamp(v) if isinstance(v, datetime) else v for k, v in params.items()}
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def close(self) -> None:
        self.pooled.close()


def make_cases(session: Session, world: World, count: int, now: datetime, seed: int = 7) -> dict[str, list]:
    """Return the requests of every page, each over as many different users as there are to ask."""
    rng = random.Random(seed)
    queue_staff = [s for s in world.staff if s.level != "province"]
    county = [s for s in world.staff if s.level == "county"]
    city = [s for s in world.staff if s.level == "city"]
    counties = {c[:4]: [] for c in world.counties}
    for code in world.counties:
        counties[code[:4]].append(code)
    busy = _busy_assignees(session)
    actors: dict[int, Actor] = {}

    def actor(member) -> Actor:
        user_id = member if isinstance(member, int) else member.user_id
        if user_id not in actors:
            actors[user_id] = actor_for(session, user_id)
        return actors[user_id]

    def spread(people: list, n: int) -> list:
        return rng.sample(people, min(n, len(people)))

    cases = {
        "first_page": [Case("first_page", actor(u), {"view": "mine"}) for u in spread(busy, count)],
        "queue_page": [Case("queue_page", actor(s), {"view": "queue"}) for s in spread(queue_staff, count)],
        "filtered_page": [
            Case(
                "filtered_page",
                actor(s),
                {
                    "view": "queue",
                    "region": rng.choice(counties[s.region[:4]]),
                    "due_within": str(FILTER_DAYS),
                },
            )
            for s in spread(city, count)
        ],
        "applicant_page": [
            Case("applicant_page", actor(s), {"view": "queue", "applicant": rng.choice(SURNAMES)})
            for s in spread(county, count)
        ],
        "newest_page": [
            Case("newest_page", actor(s), {"view": "queue", "sort": "created"})
            for s in spread(queue_staff, count)
        ],
        "counts": [Case("counts", actor(s), {}) for s in spread(world.staff, count)],
    }
    deep = [_deep_case(session, actor(s), now) for s in spread(queue_staff, max(1, count // 4))]
    cases["deep_page"] = [c for c in deep if c is not None]
    return cases


def _busy_assignees(session: Session) -> list[int]:
    """Return the users with more than a page of open tasks assigned to them."""
    statement = (
        select(HumanTask.assignee_id)
        .where(HumanTask.state == "open", HumanTask.assignee_id.is_not(None))
        .group_by(HumanTask.assignee_id)
        .having(func.count() > PAGE)
    )
    return list(session.scalars(statement))


def _deep_case(session: Session, actor: Actor, now: datetime) -> Case | None:
    """Walk the actor's queue to the cursor after DEEP_ROWS rows (or half the queue if shorter)."""
    query, cursor, seen, pages = parse_query({"view": "queue"}), None, 0, []
    while seen < DEEP_ROWS:
        page = list_tasks(session, actor, query, now, cursor, 100)
        if page.next_cursor is None:
            break
        cursor, seen = page.next_cursor, seen + len(page.items)
        pages.append(cursor)
    if not pages:
        return None
    return Case(
        "deep_page", actor, {"view": "queue"}, pages[-1] if seen >= DEEP_ROWS else pages[len(pages) // 2]
    )
