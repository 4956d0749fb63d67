"""Inbox queries: indexed keyset scans over the task projection, never a workflow load."""

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from uuid import UUID

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import union
from sqlalchemy import union_all
from sqlalchemy.orm import Session

from domain.accounts import Actor
from domain.accounts import User
from domain.organisations import Organisation
from engine.definitions import specs_for
from engine.errors import TaskNotFound
from engine.inbox_models import ListQuery
from engine.inbox_models import Order
from engine.inbox_models import TaskCc
from engine.inbox_models import after
from engine.inbox_models import decode_cursor
from engine.inbox_models import due_clauses
from engine.inbox_models import encode_cursor
from engine.inbox_models import order_by
from engine.inbox_models import where_instances
from engine.inbox_models import where_tasks
from engine.models import AuditEvent
from engine.models import HumanTask
from engine.models import HumanTaskCandidate
from engine.models import ProcessInstance
from engine.runtime import Runtime
from engine.store import load_workflow

CAP = 999  # badges say "999+" beyond this: counting further would scan a whole queue
SOON = timedelta(hours=48)
MAX_LIMIT = 100


@dataclass(frozen=True)
class TaskItem:
    """One line of an inbox list."""

    id: int
    name: str
    subject: str
    process_key: str
    instance_id: int
    region_code: str | None
    assignee_id: int | None
    created_at: datetime
    due_at: datetime | None
    due_sort: datetime
    priority: int
    escalation_level: int
    state: str = "open"
    completed_at: datetime | None = None
    completed_by_name: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class CurrentStep:
    """An open step of a process: who holds it, or which queues it waits in (name, role)."""

    task_id: int
    name: str
    due_at: datetime | None
    holder: str | None
    queues: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StartedItem:
    """A process the actor started, with its open steps."""

    instance_id: int
    process_key: str
    subject: str
    status: str
    created_at: datetime
    ended_at: datetime | None
    steps: tuple[CurrentStep, ...]


@dataclass(frozen=True)
class CcItem:
    """A task copied to the actor for information."""

    id: int
    at: datetime
    read_at: datetime | None
    by_name: str | None
    task: TaskItem


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


@dataclass(frozen=True)
class TaskDetail:
    item: TaskItem
    form_key: str
    state: str
    allowed_actions: tuple[str, ...]
    owner_id: int | None
    completed_by_name: str | None
    completed_at: datetime | None
    spec_name: str
    instance_status: str
    data: dict
    from_queue: bool
    may_act: bool = True  # False for a reader the task was only copied to


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    task_name: str | None
    actor_name: str
    opinion: str
    created_at: datetime


ITEM_COLUMNS = tuple(getattr(HumanTask, name) for name in TaskItem.__dataclass_fields__)
ORDERS: dict[str, Order] = {
    "due": ((HumanTask.due_sort, False), (HumanTask.id, False)),
    "created": ((HumanTask.created_at, True), (HumanTask.id, True)),
    "priority": ((HumanTask.priority, True), (HumanTask.due_sort, False), (HumanTask.id, False)),
    "completed": ((HumanTask.completed_at, True), (HumanTask.id, True)),
    "started": ((ProcessInstance.created_at, True), (ProcessInstance.id, True)),
    "copied": ((TaskCc.at, True), (TaskCc.id, True)),
}
QUEUE_BY_DUE: Order = ((HumanTaskCandidate.due_sort, False), (HumanTaskCandidate.human_task_id, False))


def list_tasks(
    session: Session,
    actor: Actor,
    query: ListQuery,
    now: datetime,
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """Return one page of a view, filtered and sorted as asked; raise BadQuery for a bad cursor."""
    limit = max(1, min(limit, MAX_LIMIT))
    return _VIEWS[query.view](session, actor, query, now, cursor, limit)


def my_tasks(session: Session, actor: Actor, cursor: str | None = None, limit: int = 20) -> Page:
    """Return open tasks assigned to the actor, soonest due first."""
    return list_tasks(session, actor, ListQuery("mine"), datetime.now().astimezone(), cursor, limit)


def due_status(due_at: datetime | None, now: datetime) -> str | None:
    """Say whether a due date has passed ("overdue") or comes within 48 hours ("soon")."""
    if due_at is None:
        return None
    if due_at < now:
        return "overdue"
    return "soon" if due_at <= now + SOON else None


def _mine(session, actor, query, now, cursor, limit) -> Page:
    mine = (HumanTask.assignee_id == actor.id, HumanTask.state == "open")
    return _task_page(session, query, now, cursor, limit, mine)


def _done(session, actor, query, now, cursor, limit) -> Page:
    return _task_page(session, query, now, cursor, limit, (HumanTask.completed_by_id == actor.id,))


def _task_page(session, query, now, cursor, limit, scope) -> Page:
    order = ORDERS[query.sort]
    values = decode_cursor(cursor, query.sort, order)
    statement = select(*ITEM_COLUMNS).where(*scope, *where_tasks(query.filters, now))
    rows, next_cursor = _scan(session, statement, query.sort, order, values, limit)
    return Page([TaskItem(*row) for row in rows], next_cursor)


def _scan(session, statement, sort: str, order: Order, values, limit: int):
    """Run one keyset page; return its rows (without the sort keys) and the next cursor."""
    keys = [column for column, _ in order]
    statement = statement.add_columns(*keys).where(after(order, values))
    rows = session.execute(statement.order_by(*order_by(order)).limit(limit + 1)).all()
    width = len(keys)
    next_cursor = encode_cursor(sort, rows[limit - 1][-width:]) if len(rows) > limit else None
    return [row[:-width] for row in rows[:limit]], next_cursor


def _queue(session, actor, query, now, cursor, limit) -> Page:
    """Merge one short keyset scan per principal: each reads its own index range, none the whole table."""
    order = ORDERS[query.sort]
    values = decode_cursor(cursor, query.sort, order)
    by_due = query.sort == "due"
    branch_order = QUEUE_BY_DUE if by_due else order
    due = HumanTaskCandidate.due_sort if by_due else HumanTask.due_sort
    others = where_tasks(query.filters, now, due)
    branches = []
    for principal in actor.principals:
        branch = select(HumanTaskCandidate.human_task_id.label("id")).where(
            HumanTaskCandidate.principal == principal, after(branch_order, values), *others
        )
        if not by_due or len(others) > len(due_clauses(query.filters, now, due)):
            branch = branch.join(HumanTask, HumanTask.id == HumanTaskCandidate.human_task_id)
        branches.append(_limited(branch, branch_order, limit))
    statement = select(*ITEM_COLUMNS).where(HumanTask.id.in_(_merge(branches)))
    rows, next_cursor = _scan(session, statement, query.sort, order, None, limit)
    return Page([TaskItem(*row) for row in rows], next_cursor)


def _cc(session, actor, query, now, cursor, limit) -> Page:
    order = ORDERS["copied"]
    values = decode_cursor(cursor, query.sort, order)
    others = where_tasks(query.filters, now)
    branches = []
    for principal in actor.principals:
        branch = select(TaskCc.id).where(TaskCc.principal == principal, after(order, values), *others)
        if others:
            branch = branch.join(HumanTask, HumanTask.id == TaskCc.human_task_id)
        branches.append(_limited(branch, order, limit))
    statement = (
        select(TaskCc.id, TaskCc.at, TaskCc.read_at, User.display_name, *ITEM_COLUMNS)
        .join(HumanTask, HumanTask.id == TaskCc.human_task_id)
        .outerjoin(User, User.id == TaskCc.by_user_id)
        .where(TaskCc.id.in_(_merge(branches)))
    )
    rows, next_cursor = _scan(session, statement, query.sort, order, None, limit)
    return Page([CcItem(*row[:4], TaskItem(*row[4:])) for row in rows], next_cursor)


def _limited(branch, order: Order, limit: int):
    """Wrap a branch's ORDER BY ... LIMIT as a subquery: SQLite refuses them on a UNION's members."""
    return select(branch.order_by(*order_by(order)).limit(limit + 1).subquery().c[0])


def _merge(branches: list):
    return branches[0] if len(branches) == 1 else union_all(*branches)


def _started(session, actor, query, now, cursor, limit) -> Page:
    order = ORDERS["started"]
    values = decode_cursor(cursor, query.sort, order)
    statement = select(
        ProcessInstance.id,
        ProcessInstance.process_key,
        ProcessInstance.subject,
        ProcessInstance.status,
        ProcessInstance.created_at,
        ProcessInstance.ended_at,
    ).where(ProcessInstance.initiator_id == actor.id, *where_instances(query.filters, now))
    rows, next_cursor = _scan(session, statement, query.sort, order, values, limit)
    steps = current_steps(session, [row[0] for row in rows])
    return Page([StartedItem(*row, steps.get(row[0], ())) for row in rows], next_cursor)


_VIEWS = {"mine": _mine, "queue": _queue, "done": _done, "started": _started, "cc": _cc}


def current_steps(session: Session, instance_ids: list[int]) -> dict[int, tuple[CurrentStep, ...]]:
    """Return the open steps of some instances with who holds each, in three indexed queries."""
    if not instance_ids:
        return {}
    rows = session.execute(
        select(
            HumanTask.id,
            HumanTask.instance_id,
            HumanTask.name,
            HumanTask.due_at,
            HumanTask.assignee_id,
            HumanTask.candidates,
        )
        .where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == "open")
        .order_by(HumanTask.id)
    ).all()
    names = _principal_names(session, rows)
    found: dict[int, list[CurrentStep]] = {}
    for task_id, instance_id, name, due_at, assignee_id, candidates in rows:
        holder = names.get(f"u:{assignee_id}", ("—", ""))[0] if assignee_id is not None else None
        queues = () if holder else tuple(names.get(p, (p, "")) for p in candidates.split())
        found.setdefault(instance_id, []).append(CurrentStep(task_id, name, due_at, holder, queues))
    return {key: tuple(steps) for key, steps in found.items()}


def _principal_names(session: Session, rows) -> dict[str, tuple[str, str]]:
    """Name the principals of some task rows as (name, role): a user's display name, a group's office."""
    principals = {f"u:{r.assignee_id}" for r in rows if r.assignee_id is not None}
    principals |= {p for r in rows if r.assignee_id is None for p in r.candidates.split()}
    users = [int(p[2:]) for p in principals if p.startswith("u:") and p[2:].isdigit()]
    parts = [p.split(":") for p in principals if not p.startswith("u:")]
    pairs = [(q[1], q[2]) for q in parts if len(q) == 4 and q[0] == "g"]
    org_ids = [int(q[1]) for q in parts if len(q) == 3 and q[0] == "o" and q[1].isdigit()]
    names = {
        f"u:{user_id}": (display_name, "")
        for user_id, display_name in session.execute(
            select(User.id, User.display_name).where(User.id.in_(users))
        )
    }
    offices = select(Organisation.id, Organisation.kind, Organisation.region_code, Organisation.name)
    found = session.execute(offices.where(Organisation.id.in_(org_ids))).all() if org_ids else []
    if pairs:  # by region first: the (region_code, kind) index finds the offices
        regions, kinds = {region for _, region in pairs}, {kind for kind, _ in pairs}
        found += session.execute(
            offices.where(Organisation.region_code.in_(regions), Organisation.kind.in_(kinds))
        ).all()
    for org_id, kind, region, name in found:
        for role in {q[-1] for q in parts}:
            names[f"o:{org_id}:{role}"] = (name, role)
            names[f"g:{kind}:{region}:{role}"] = (name, role)
    return names


_COUNTS = ("mine", "queued", "done", "started", "cc")


def inbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Return the badge counts of every view, each at most CAP + 1 (shown as "999+")."""
    statement = select(
        _capped(select(HumanTask.id).where(HumanTask.assignee_id == actor.id, HumanTask.state == "open")),
        _capped_union(
            select(HumanTaskCandidate.human_task_id).where(HumanTaskCandidate.principal == p)
            for p in actor.principals
        ),
        _capped(select(HumanTask.id).where(HumanTask.completed_by_id == actor.id)),
        _capped(
            select(ProcessInstance.id).where(
                ProcessInstance.initiator_id == actor.id, ProcessInstance.status == "running"
            )
        ),
        _capped_union(
            select(TaskCc.id).where(TaskCc.principal == p, TaskCc.read_at.is_(None)) for p in actor.principals
        ),
    )
    counts = session.execute(statement).one()
    return {key: min(value, CAP + 1) for key, value in zip(_COUNTS, counts, strict=True)}


def _capped(statement):
    return select(func.count()).select_from(statement.limit(CAP + 1).subquery()).scalar_subquery()


def _capped_union(statements):
    """Count distinct ids over per-principal scans of at most CAP + 1 rows each: exact up to CAP."""
    branches = [select(s.limit(CAP + 1).subquery().c[0]) for s in statements]
    merged = branches[0] if len(branches) == 1 else union(*branches)
    return select(func.count()).select_from(merged.subquery()).scalar_subquery()


def task_detail(rt: Runtime, session: Session, actor: Actor, task_id: int) -> TaskDetail:
    """Return a task the actor may see with its data, or raise TaskNotFound."""
    row = session.get(HumanTask, task_id)
    if row is None or not _visible(session, row, actor):
        raise TaskNotFound(task_id)
    instance = session.get(ProcessInstance, row.instance_id)
    item = TaskItem(*(getattr(row, c.key) for c in ITEM_COLUMNS))
    return TaskDetail(
        item,
        row.form_key,
        row.state,
        tuple(row.allowed_actions.split(",")),
        row.owner_id,
        row.completed_by_name,
        row.completed_at,
        row.spec_name,
        instance.status,
        _task_data(rt, session, instance, row),
        any(not p.startswith("u:") for p in row.candidates.split()),
        _may_act(row, actor),
    )


def workable_summaries(session: Session, actor: Actor, task_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Return (name and subject, form key) of those tasks the actor may work; the others are left out."""
    rows = session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids))).all()
    return {r.id: (f"{r.name} · {r.subject}", r.form_key) for r in rows if _may_act(r, actor)}


def history(session: Session, instance_id: int) -> list[HistoryEntry]:
    """Return the audit trail of an instance, oldest first."""
    rows = session.execute(
        select(
            AuditEvent.action,
            AuditEvent.task_name,
            AuditEvent.actor_name,
            AuditEvent.opinion,
            AuditEvent.created_at,
        )
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.id)
    )
    return [HistoryEntry(*row) for row in rows]


def _task_data(rt: Runtime, session: Session, instance: ProcessInstance, row: HumanTask) -> dict:
    """Read one task's data from its workflow (a single load, for the task page only)."""
    parsed = specs_for(rt, session, instance.definition_id)
    workflow = load_workflow(instance.state, parsed.spec, parsed.subprocess_specs, None)
    task = workflow.get_task_from_id(UUID(row.task_uuid)) if UUID(row.task_uuid) in workflow.tasks else None
    return dict(task.data) if task is not None else dict(workflow.data)


def _may_act(row: HumanTask, actor: Actor) -> bool:
    if actor.is_admin or actor.id in (row.assignee_id, row.owner_id):
        return True
    return row.state == "open" and bool(set(row.candidates.split()) & set(actor.principals))


def _visible(session: Session, row: HumanTask, actor: Actor) -> bool:
    """Say whether the actor works, worked, or was sent a copy of the task."""
    if _may_act(row, actor) or actor.id == row.completed_by_id:
        return True
    copied = exists().where(TaskCc.human_task_id == row.id, TaskCc.principal.in_(actor.principals))
    return bool(session.scalar(select(copied)))
