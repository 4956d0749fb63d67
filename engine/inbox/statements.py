"""The inbox lists' SQL, built once per shape and reused: every value is a named parameter.

A list's shape is its view, sort, which filters are set, how many principals the actor has,
whether it starts from a cursor, and its page size. Building a statement costs more in SQLAlchemy
than the database takes to run it, so each shape is built once and then only executed.
"""

from datetime import datetime
from datetime import time
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import union
from sqlalchemy import union_all

from domain.accounts.users import User
from domain.calendar.deadlines import china_time
from engine.inbox.list_query import Filters
from engine.runtime.models import OPEN
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskCc
from infra.keyset import Order
from infra.keyset import order_by
from infra.keyset import ordered
from infra.keyset import seek

CAP = 999  # badges say "999+" beyond this: counting further would scan a whole queue
SHAPES = 512  # statements kept: views x sorts x filter sets x principal counts x page sizes in use
TASKS = HumanTask.__table__
QUEUE = HumanTaskCandidate.__table__
INSTANCES = ProcessInstance.__table__
COPIES = TaskCc.__table__
AUDIT = AuditEvent.__table__
USERS = User.__table__
ITEM_NAMES = (  # the fields of engine.inbox.queries.TaskItem, in order
    "id name subject process_key instance_id region_code assignee_id created_at due_at due_sort "
    "priority escalation_level state completed_at completed_by_name outcome"
)
ITEM = tuple(TASKS.c[name] for name in ITEM_NAMES.split())
STARTED = tuple(INSTANCES.c[n] for n in ("id", "process_key", "subject", "status", "created_at", "ended_at"))
ORDERS: dict[str, Order] = {
    "due": ((TASKS.c.due_sort, False), (TASKS.c.id, False)),
    "created": ((TASKS.c.created_at, True), (TASKS.c.id, True)),
    "priority": ((TASKS.c.priority, True), (TASKS.c.due_sort, False), (TASKS.c.id, False)),
    "completed": ((TASKS.c.completed_at, True), (TASKS.c.id, True)),
    "started": ((INSTANCES.c.created_at, True), (INSTANCES.c.id, True)),
    "copied": ((COPIES.c.at, True), (COPIES.c.id, True)),
}
QUEUE_ORDERS: dict[str, Order] = {  # the same orders over the queue rows' copies of the sort keys
    "due": ((QUEUE.c.due_sort, False), (QUEUE.c.human_task_id, False)),
    "created": ((QUEUE.c.created_at, True), (QUEUE.c.human_task_id, True)),
    "priority": ((QUEUE.c.priority, True), (QUEUE.c.due_sort, False), (QUEUE.c.human_task_id, False)),
}
DUE_NAMES = ("f_overdue_before", "f_due_from", "f_due_to")


def filter_values(filters: Filters, now: datetime) -> dict[str, object]:
    """Return the filters as named parameters; which names are present is the filters' shape."""
    found: dict[str, object] = {}
    if filters.process:
        found["f_process"] = filters.process
    if filters.region:
        found |= _region(filters.region)
    if filters.organisation:
        found["f_business_key"] = f"organisation_id:{filters.organisation}"
    if filters.applicant:
        escaped = filters.applicant.replace("/", "//").replace("%", "/%").replace("_", "/_")
        found["f_applicant"] = escaped + "%"
    if filters.overdue:
        found["f_overdue_before"] = now
    if filters.due_within:
        found |= {"f_due_from": now, "f_due_to": now + timedelta(days=filters.due_within)}
    if filters.created_from:
        found["f_created_from"] = _day_start(filters.created_from)
    if filters.created_to:
        found["f_created_to"] = _day_start(filters.created_to + timedelta(days=1))
    if filters.returned:
        found["f_returned"] = "return"
    return found


def _region(code: str) -> dict[str, str]:
    """Match a region and every region under it: codes share the parent's prefix (410400 -> 4104xx)."""
    prefix = code
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    if len(prefix) == len(code):
        return {"f_region": code}
    return {"f_region_from": prefix, "f_region_to": prefix[:-1] + chr(ord(prefix[-1]) + 1)}


def _day_start(day) -> datetime:
    return china_time(datetime.combine(day, time(0)))


def where_tasks(names: tuple[str, ...], due=TASKS.c.due_sort) -> list:
    """Return the conditions of these filters on task rows (`due`: the due column the scan reads)."""
    cols = TASKS.c
    return _where(names, cols.process_key, cols.region_code, cols.created_at, cols.instance_id) + due_clauses(
        names, due
    )


def where_instances(names: tuple[str, ...]) -> list:
    """Return the conditions of these filters on instances: the due filters ask for an open task."""
    cols = INSTANCES.c
    found = _where(names, cols.process_key, cols.region_code, cols.created_at, cols.id)
    due = due_clauses(names, TASKS.c.due_sort)
    if due:
        found.append(exists().where(TASKS.c.instance_id == cols.id, TASKS.c.state == OPEN, *due))
    return found


def due_clauses(names: tuple[str, ...], due) -> list:
    """Return the due-date conditions: overdue, or due from now to N days ahead."""
    found = [due < bindparam("f_overdue_before")] if "f_overdue_before" in names else []
    if "f_due_from" in names:
        found += [due >= bindparam("f_due_from"), due < bindparam("f_due_to")]
    return found


def _where(names: tuple[str, ...], process, region, created, instance_id) -> list:
    found = []
    if "f_process" in names:
        found.append(process == bindparam("f_process"))
    if "f_region" in names:
        found.append(region == bindparam("f_region"))
    if "f_region_from" in names:
        found += [region >= bindparam("f_region_from"), region < bindparam("f_region_to")]
    if "f_business_key" in names:
        other = INSTANCES.alias("by_key")
        found.append(
            instance_id.in_(select(other.c.id).where(other.c.business_key == bindparam("f_business_key")))
        )
    if "f_applicant" in names:
        other, applicant = INSTANCES.alias("applied"), USERS.alias("applicant")
        named = applicant.c.display_name.like(bindparam("f_applicant"), escape="/")
        found.append(exists().where(other.c.id == instance_id, applicant.c.id == other.c.initiator_id, named))
    if "f_created_from" in names:
        found.append(created >= bindparam("f_created_from"))
    if "f_created_to" in names:
        found.append(created < bindparam("f_created_to"))
    if "f_returned" in names:
        found.append(returned_to_actor(instance_id))
    return found


def returned_to_actor(instance_id):
    """Return the condition: the instance is the actor's own and was sent back at least once (退回)."""
    mine = INSTANCES.alias("own")
    sent_back = exists().where(AUDIT.c.instance_id == instance_id, AUDIT.c.action == bindparam("f_returned"))
    return exists().where(mine.c.id == instance_id, mine.c.initiator_id == bindparam("actor")) & sent_back


def after(order: Order):
    """Return "after the cursor" (parameters k0, k1, ...), led by a bound an index range starts at."""
    return seek(order, [bindparam(f"k{i}") for i in range(len(order))], bounded=True)


def cursor_values(values: tuple | None) -> dict[str, object]:
    """Return a cursor's sort-key values as the parameters `after` reads."""
    return {f"k{i}": value for i, value in enumerate(values or ())}


def principal_values(principals: tuple[str, ...]) -> dict[str, str]:
    """Return the actor's principals as parameters p0, p1, ..."""
    return {f"p{n}": p for n, p in enumerate(principals)}


def _page(statement, order: Order, with_cursor: bool, limit: int):
    """Finish a keyset page: sort keys last, ordered, one row more than the page to tell if more follow."""
    if with_cursor:
        statement = statement.where(after(order))
    return ordered(statement, order).order_by(*order_by(order)).limit(limit + 1)


@lru_cache(maxsize=SHAPES)
def task_list(scope: str, sort: str, names: tuple[str, ...], with_cursor: bool, limit: int):
    """Return the statement of "mine" (open tasks assigned to the actor) or "done" (tasks they completed)."""
    mine = (TASKS.c.assignee_id == bindparam("actor"), TASKS.c.state == OPEN)
    done = (TASKS.c.completed_by_id == bindparam("actor"),)
    statement = select(*ITEM).where(*(mine if scope == "mine" else done), *where_tasks(names))
    return _page(statement, ORDERS[sort], with_cursor, limit)


@lru_cache(maxsize=SHAPES)
def queue_list(sort: str, principals: int, names: tuple[str, ...], with_cursor: bool, limit: int):
    """Return the statement of the queue: one short keyset scan per principal, merged, then the page.

    By due date or newest first, each scan reads the principal's range of the queue index of the sort
    in order and stops after a page (by priority it sorts that range). The queue rows carry the task's
    sort keys, so only the filters other than the due dates join the task.
    """
    branch_order = QUEUE_ORDERS[sort]
    others = where_tasks(names, QUEUE.c.due_sort)
    joined = any(name not in DUE_NAMES for name in names)
    branches = []
    for n in range(principals):
        branch = select(QUEUE.c.human_task_id).where(QUEUE.c.principal == bindparam(f"p{n}"), *others)
        if joined:
            branch = branch.join(TASKS, TASKS.c.id == QUEUE.c.human_task_id)
        branches.append(_limited(branch, branch_order, with_cursor, limit))
    return _page(select(*ITEM).where(TASKS.c.id.in_(_merge(branches))), ORDERS[sort], False, limit)


@lru_cache(maxsize=SHAPES)
def copies_list(principals: int, names: tuple[str, ...], with_cursor: bool, limit: int):
    """Return the statement of the copies sent to any of the actor's principals, newest first."""
    order = ORDERS["copied"]
    others = where_tasks(names)
    branches = []
    for n in range(principals):
        branch = select(COPIES.c.id).where(COPIES.c.principal == bindparam(f"p{n}"), *others)
        if others:
            branch = branch.join(TASKS, TASKS.c.id == COPIES.c.human_task_id)
        branches.append(_limited(branch, order, with_cursor, limit))
    sender = USERS.alias("sender")
    statement = (
        select(COPIES.c.id, COPIES.c.at, COPIES.c.read_at, sender.c.display_name, *ITEM)
        .join_from(COPIES, TASKS, TASKS.c.id == COPIES.c.human_task_id)
        .outerjoin(sender, sender.c.id == COPIES.c.by_user_id)
        .where(COPIES.c.id.in_(_merge(branches)))
    )
    return _page(statement, order, False, limit)


@lru_cache(maxsize=SHAPES)
def started_list(names: tuple[str, ...], with_cursor: bool, limit: int):
    """Return the statement of the processes the actor started, newest first."""
    statement = select(*STARTED).where(
        INSTANCES.c.initiator_id == bindparam("actor"), *where_instances(names)
    )
    return _page(statement, ORDERS["started"], with_cursor, limit)


def _limited(branch, order: Order, with_cursor: bool, limit: int):
    """Wrap a branch's ORDER BY ... LIMIT as a subquery: SQLite refuses them on a UNION's members."""
    if with_cursor:
        branch = branch.where(after(order))
    return select(branch.order_by(*order_by(order)).limit(limit + 1).subquery().c[0])


def _merge(branches: list):
    return branches[0] if len(branches) == 1 else union_all(*branches)


@lru_cache(maxsize=SHAPES)
def counts(principals: int):
    """Return the statement of every badge count, each capped at CAP + 1 (parameters actor, p0, p1, ...)."""
    actor, each = bindparam("actor"), [bindparam(f"p{n}") for n in range(principals)]
    return select(
        _capped(select(TASKS.c.id).where(TASKS.c.assignee_id == actor, TASKS.c.state == OPEN)),
        _capped_union(select(QUEUE.c.human_task_id).where(QUEUE.c.principal == p) for p in each),
        _capped(select(TASKS.c.id).where(TASKS.c.completed_by_id == actor)),
        _capped(
            select(INSTANCES.c.id).where(INSTANCES.c.initiator_id == actor, INSTANCES.c.status == "running")
        ),
        _capped_union(
            select(COPIES.c.id).where(COPIES.c.principal == p, COPIES.c.read_at.is_(None)) for p in each
        ),
    )


def _capped(statement):
    return select(func.count()).select_from(statement.limit(CAP + 1).subquery()).scalar_subquery()


def _capped_union(statements):
    """Count distinct ids over per-principal scans of at most CAP + 1 rows each: exact up to CAP."""
    branches = [select(s.limit(CAP + 1).subquery().c[0]) for s in statements]
    merged = branches[0] if len(branches) == 1 else union(*branches)
    return select(func.count()).select_from(merged.subquery()).scalar_subquery()


@lru_cache(maxsize=64)
def workload(principals: int):
    """Return the statement of a home page's counts: held and queued tasks, each all, due soon, overdue,
    and the actor's applications sent back to them (parameters actor, p0, ..., soon, now, f_returned).
    """
    actor, each = bindparam("actor"), [bindparam(f"p{n}") for n in range(principals)]
    held = select(TASKS.c.id).where(TASKS.c.assignee_id == actor, TASKS.c.state == OPEN)
    soon = (TASKS.c.due_sort >= bindparam("now"), TASKS.c.due_sort < bindparam("soon"))
    late = (TASKS.c.due_sort < bindparam("now"),)
    queue_soon = (QUEUE.c.due_sort >= bindparam("now"), QUEUE.c.due_sort < bindparam("soon"))
    queue_late = (QUEUE.c.due_sort < bindparam("now"),)

    def queued(*where):
        return _capped_union(
            select(QUEUE.c.human_task_id).where(QUEUE.c.principal == p, *where) for p in each
        )

    return select(
        _capped(held),
        _capped(held.where(*soon)),
        _capped(held.where(*late)),
        queued(),
        queued(*queue_soon),
        queued(*queue_late),
        _capped(held.where(returned_to_actor(TASKS.c.instance_id))),
    )
