"""Urge (催办): remind whoever holds an open step, at most once a day per task."""

from datetime import datetime

from sqlalchemy import exists
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.calendar.deadlines import china_day
from engine.errors import AlreadyUrgedToday
from engine.errors import InvalidCommand
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskNotFound
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import DONE
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskUrge
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import holders

_TASKS = HumanTask.__table__
_URGES = TaskUrge.__table__
_INSERT = insert(_URGES)


def urge_task(rt: Runtime, actor: Actor, task_id: int, note: str = "") -> None:
    """Remind the holder (or the queues) of an open step, for its applicant or an earlier approver."""

    def body(ctx: CommandContext) -> None:
        row = ctx.task_row(task_id)
        if row is None or not may_urge(ctx.session, actor, row.instance_id, row.id):
            raise TaskNotFound(task_id)
        if row.state != "open":
            raise TaskAlreadyHandled(row.completed_by_name, row.completed_at)
        if row.assignee_id == actor.id:
            raise InvalidCommand("urge_own_task")
        _record_once_today(ctx, row)
        recipients = holders(row)
        body_text = note.strip() or row.subject
        ctx.notify(recipients, "urge", f"{actor.name}催办：{row.name}", body_text, row.instance_id, row.id)
        ctx.audit(row.instance_id, "urge", row, note.strip(), recipients=recipients)

    run_command(rt, "urge", actor, body, task_id)


def _record_once_today(ctx: CommandContext, row: TaskRow) -> None:
    """Insert today's urge row, or explain that there is one: the unique key (task, day) decides."""
    today = china_day(ctx.now)
    try:
        with ctx.session.begin_nested():
            ctx.db.execute(
                _INSERT, {"human_task_id": row.id, "day": today, "by_user_id": ctx.actor.id, "at": ctx.now}
            )
    except IntegrityError as lost:  # today's row exists, or a concurrent urge committed first
        raise AlreadyUrgedToday() from lost


def may_urge(session: Session, actor: Actor, instance_id: int, task_id: int) -> bool:
    """Say whether the actor started the instance, handled one of its steps, or is an administrator."""
    if actor.is_admin:
        return True
    started = exists().where(ProcessInstance.id == instance_id, ProcessInstance.initiator_id == actor.id)
    handled = exists().where(
        _TASKS.c.instance_id == instance_id,
        _TASKS.c.completed_by_id == actor.id,
        _TASKS.c.state == DONE,
        _TASKS.c.id != task_id,
    )
    return bool(session.scalar(select(started | handled)))


def urged_today(session: Session, task_ids: list[int], now: datetime) -> set[int]:
    """Return those of the tasks that were urged today (China date)."""
    if not task_ids:
        return set()
    found = session.scalars(
        select(_URGES.c.human_task_id).where(
            _URGES.c.human_task_id.in_(task_ids), _URGES.c.day == china_day(now)
        )
    )
    return set(found)
