"""Inbox queries: indexed keyset scans over the task projection, never a workflow load."""

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from functools import partial
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from engine.errors import TaskNotFound
from engine.inbox import statements as inbox_sql
from engine.inbox.list_query import BadQuery
from engine.inbox.list_query import ListQuery
from engine.inbox.principal_names import principal_names
from engine.inbox.statements import CAP
from engine.inbox.statements import ORDERS
from engine.runtime import Runtime
from engine.runtime.definitions import specs_for
from engine.runtime.models import OPEN
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.runtime.store import load_workflow
from engine.tasks import visibility
from infra.keyset import BadCursor
from infra.keyset import Page
from infra.keyset import clamp
from infra.keyset import cut
from infra.keyset import decode_cursor

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
    """An open step of a process: who holds it (name, user id), or which queues it waits in (name, role)."""

    task_id: int
    name: str
    due_at: datetime | None
    holder: str | None
    holder_id: int | None
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
    may_act: bool = True  # False for a reader: a copy's, the initiator, an earlier handler
    copied: bool = False  # the task was copied to the actor (抄送)
    copy_unread: bool = False  # ... and a copy is still unread: opening the page marks it read


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    task_name: str | None
    actor_name: str
    opinion: str
    created_at: datetime
    recipients: tuple[str, ...] = ()  # whom a task was copied, transferred or delegated to


def list_tasks(
    session: Session,
    actor: Actor,
    query: ListQuery,
    now: datetime,
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """Return one page of a view, filtered and sorted as asked; raise BadQuery for a bad cursor."""
    return _VIEWS[query.view](session, actor, query, now, cursor, clamp(limit, MAX_LIMIT))


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
    build = partial(inbox_sql.task_list, "mine", query.sort)
    return _scan(session, actor, query, now, cursor, limit, query.sort, build, _task_item)


def _done(session, actor, query, now, cursor, limit) -> Page:
    build = partial(inbox_sql.task_list, "done", query.sort)
    return _scan(session, actor, query, now, cursor, limit, query.sort, build, _task_item)


def _queue(session, actor, query, now, cursor, limit) -> Page:
    build = partial(inbox_sql.queue_list, query.sort, len(actor.principals))
    return _scan(session, actor, query, now, cursor, limit, query.sort, build, _task_item)


def _cc(session, actor, query, now, cursor, limit) -> Page:
    build = partial(inbox_sql.copies_list, len(actor.principals))
    return _scan(session, actor, query, now, cursor, limit, "copied", build, _cc_item)


def _started(session, actor, query, now, cursor, limit) -> Page:
    page = _scan(session, actor, query, now, cursor, limit, "started", inbox_sql.started_list, tuple)
    steps = current_steps(session, [row[0] for row in page.items])
    return Page(tuple(StartedItem(*row, steps.get(row[0], ())) for row in page.items), page.next_cursor)


def _task_item(row) -> TaskItem:
    return TaskItem(*row)


def _cc_item(row) -> CcItem:
    return CcItem(*row[:4], TaskItem(*row[4:]))


def _scan(session, actor, query, now, cursor, limit, order_key: str, build, make) -> Page:
    """Run one keyset page of a statement built once per shape; its cursors are tagged with the sort."""
    order = ORDERS[order_key]
    try:
        values = decode_cursor(cursor, order, query.sort)
    except BadCursor as bad:
        raise BadQuery("the cursor does not belong to this list") from bad
    params = inbox_sql.filter_values(query.filters, now)
    statement = build(tuple(sorted(params)), values is not None, limit)
    params |= inbox_sql.cursor_values(values) | inbox_sql.principal_values(actor.principals)
    rows = session.execute(statement, {"actor": actor.id, **params}).all()
    items, next_cursor = cut(rows, limit, order, make, query.sort)
    return Page(items, next_cursor)


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
        .where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == OPEN)
        .order_by(HumanTask.id)
    ).all()
    holders = {f"u:{r.assignee_id}" for r in rows if r.assignee_id is not None}
    names = principal_names(
        session, holders | {p for r in rows if r.assignee_id is None for p in r.candidates.split()}
    )
    found: dict[int, list[CurrentStep]] = {}
    for task_id, instance_id, name, due_at, assignee_id, candidates in rows:
        holder = names.get(f"u:{assignee_id}", ("—", ""))[0] if assignee_id is not None else None
        queues = () if holder else tuple(names.get(p, (p, "")) for p in candidates.split())
        step = CurrentStep(task_id, name, due_at, holder, assignee_id, queues)
        found.setdefault(instance_id, []).append(step)
    return {key: tuple(steps) for key, steps in found.items()}


def instances_about(session: Session, business_key: str, limit: int = 20) -> tuple[StartedItem, ...]:
    """Return the processes about one record (its registration applications), latest first, with open steps.

    The caller has checked that the actor may see the record; each step's actions are the permission
    function's to say (permissions_for), which also leaves out the steps the actor may not see.
    """
    rows = session.execute(
        select(
            ProcessInstance.id,
            ProcessInstance.process_key,
            ProcessInstance.subject,
            ProcessInstance.status,
            ProcessInstance.created_at,
            ProcessInstance.ended_at,
        )
        .where(ProcessInstance.business_key == business_key)
        .order_by(ProcessInstance.id.desc())
        .limit(limit)
    ).all()
    steps = current_steps(session, [row[0] for row in rows])
    return tuple(StartedItem(*row, steps.get(row[0], ())) for row in rows)


_COUNTS = ("mine", "queued", "done", "started", "cc")


def inbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Return the badge counts of every view, each at most CAP + 1 (shown as "999+")."""
    params = {"actor": actor.id, **inbox_sql.principal_values(actor.principals)}
    counts = session.execute(inbox_sql.counts(len(actor.principals)), params).one()
    return {key: min(value, CAP + 1) for key, value in zip(_COUNTS, counts, strict=True)}


def task_detail(rt: Runtime, session: Session, actor: Actor, task_id: int) -> TaskDetail:
    """Return a task the actor may see with its data, or raise TaskNotFound."""
    row = session.get(HumanTask, task_id)
    if row is None or not visibility.may_view(session, row, actor):
        raise TaskNotFound(task_id)
    instance = session.get(ProcessInstance, row.instance_id)
    item = TaskItem(*(getattr(row, c.key) for c in inbox_sql.ITEM))
    copied, copy_unread = visibility.is_copied_to(session, row.id, actor)
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
        row.state == "open" and visibility.may_act(row, actor),
        copied,
        copy_unread,
    )


def workable_summaries(session: Session, actor: Actor, task_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Return (name and subject, form key) of those tasks the actor may work; the others are left out."""
    rows = session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids))).all()
    return {r.id: (f"{r.name} · {r.subject}", r.form_key) for r in rows if visibility.may_act(r, actor)}


def history(session: Session, actor: Actor, instance_id: int) -> list[HistoryEntry]:
    """Return the audit trail of an instance the actor may see, oldest first; raise TaskNotFound if hidden."""
    if not visibility.may_view_instance(session, actor, instance_id):
        raise TaskNotFound(instance_id)
    return audit_trail(session, instance_id)


def audit_trail(session: Session, instance_id: int) -> list[HistoryEntry]:
    """Return an instance's audit trail, oldest first, to a caller that proved the actor may see it."""
    rows = session.execute(
        select(
            AuditEvent.action,
            AuditEvent.task_name,
            AuditEvent.actor_name,
            AuditEvent.opinion,
            AuditEvent.created_at,
            AuditEvent.details,
        )
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.id)
    )
    rows = rows.all()
    # an escalation records the queues it went to: name those offices (one lookup for the whole trail)
    offices = principal_names(session, {p for row in rows for p in (row.details or {}).get("to") or ()})
    return [HistoryEntry(*row[:5], _recipients(row.details or {}, offices)) for row in rows]


def _recipients(details: dict, offices: dict[str, tuple[str, str]]) -> tuple[str, ...]:
    """Return whom an audit event went to: a copy's readers, a hand-over's user, an escalation's queues."""
    names = details.get("to_names") or ([details["to_name"]] if details.get("to_name") else [])
    if not names and isinstance(details.get("to"), list):
        names = list(dict.fromkeys(offices.get(p, (p, ""))[0] for p in details["to"]))
    return tuple(str(name) for name in names)


def _task_data(rt: Runtime, session: Session, instance: ProcessInstance, row: HumanTask) -> dict:
    """Read one task's data from its workflow (a single load, for the task page only)."""
    parsed = specs_for(rt, session, instance.definition_id)
    workflow = load_workflow(instance.state, parsed.spec, parsed.subprocess_specs, None)
    task = workflow.get_task_from_id(UUID(row.task_uuid)) if UUID(row.task_uuid) in workflow.tasks else None
    return dict(task.data) if task is not None else dict(workflow.data)
