"""Inbox queries: indexed SQL over the task projection, never a workflow load."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts import Actor
from engine.definitions import specs_for
from engine.errors import TaskNotFound
from engine.models import AuditEvent
from engine.models import HumanTask
from engine.models import HumanTaskCandidate
from engine.models import ProcessInstance
from engine.runtime import Runtime
from engine.store import load_workflow


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


@dataclass(frozen=True)
class Page:
    items: list[TaskItem]
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


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    task_name: str | None
    actor_name: str
    opinion: str
    created_at: datetime


_ITEM_COLUMNS = (
    HumanTask.id,
    HumanTask.name,
    HumanTask.subject,
    HumanTask.process_key,
    HumanTask.instance_id,
    HumanTask.region_code,
    HumanTask.assignee_id,
    HumanTask.created_at,
    HumanTask.due_at,
    HumanTask.due_sort,
    HumanTask.priority,
    HumanTask.escalation_level,
)


def encode_cursor(item: TaskItem) -> str:
    """Return the keyset cursor after an item."""
    return f"{item.due_sort.isoformat()}_{item.id}"


def _after(cursor: str | None, due_column, id_column):
    if not cursor:
        return True
    due_text, _, id_text = cursor.rpartition("_")
    due = datetime.fromisoformat(due_text)
    return or_(due_column > due, and_(due_column == due, id_column > int(id_text)))


def _page(session: Session, query, limit: int) -> Page:
    rows = session.execute(query.limit(limit + 1)).all()
    items = [TaskItem(*row) for row in rows[:limit]]
    return Page(items, encode_cursor(items[-1]) if len(rows) > limit else None)


def my_tasks(session: Session, actor: Actor, cursor: str | None = None, limit: int = 20) -> Page:
    """Return open tasks assigned to the actor, soonest due first."""
    query = (
        select(*_ITEM_COLUMNS)
        .where(
            HumanTask.assignee_id == actor.id,
            HumanTask.state == "open",
            _after(cursor, HumanTask.due_sort, HumanTask.id),
        )
        .order_by(HumanTask.due_sort, HumanTask.id)
    )
    return _page(session, query, limit)


def queued_tasks(session: Session, actor: Actor, cursor: str | None = None, limit: int = 20) -> Page:
    """Return unclaimed open tasks offered to the actor's groups, soonest due first."""
    groups = [p for p in actor.principals if not p.startswith("u:")]
    query = (
        select(*_ITEM_COLUMNS)
        .join(HumanTaskCandidate, HumanTaskCandidate.human_task_id == HumanTask.id)
        .where(
            HumanTaskCandidate.principal.in_(groups),
            _after(cursor, HumanTaskCandidate.due_sort, HumanTaskCandidate.human_task_id),
        )
        .order_by(HumanTaskCandidate.due_sort, HumanTaskCandidate.human_task_id)
    )
    return _page(session, query, limit)


def done_tasks(session: Session, actor: Actor, limit: int = 20) -> list[TaskItem]:
    """Return tasks the actor finished, newest first."""
    query = (
        select(*_ITEM_COLUMNS)
        .where(HumanTask.completed_by_id == actor.id)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
        .limit(limit)
    )
    return [TaskItem(*row) for row in session.execute(query)]


def inbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Return the badge counts: mine and my groups' queue."""
    mine = session.scalar(
        select(func.count()).where(HumanTask.assignee_id == actor.id, HumanTask.state == "open")
    )
    groups = [p for p in actor.principals if not p.startswith("u:")]
    queued = (
        session.scalar(select(func.count()).where(HumanTaskCandidate.principal.in_(groups))) if groups else 0
    )
    return {"mine": mine or 0, "queued": queued or 0}


def task_detail(rt: Runtime, session: Session, actor: Actor, task_id: int) -> TaskDetail:
    """Return a task the actor may see with its data, or raise TaskNotFound."""
    row = session.get(HumanTask, task_id)
    if row is None or not _visible(session, row, actor):
        raise TaskNotFound(task_id)
    instance = session.get(ProcessInstance, row.instance_id)
    item = TaskItem(*(getattr(row, c.key) for c in _ITEM_COLUMNS))
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
    )


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


def _visible(session: Session, row: HumanTask, actor: Actor) -> bool:
    if actor.is_admin or actor.id in (row.assignee_id, row.owner_id, row.completed_by_id):
        return True
    if row.state == "open":
        return bool(set(row.candidates.split()) & set(actor.principals))
    return False
