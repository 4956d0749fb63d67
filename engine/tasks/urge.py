"""Urge (催办): remind whoever holds an open step, at most once a day per task."""

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from domain.accounts.users import Actor
from domain.calendar.deadlines import china_day
from engine.errors import AlreadyUrgedToday
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import TaskUrge
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import holders
from engine.tasks.access import checked_task

_URGES = TaskUrge.__table__
_INSERT = insert(_URGES)


def urge_task(rt: Runtime, actor: Actor, task_id: int, note: str = "") -> None:
    """Remind the holder (or the queues) of an open step, for its applicant or an earlier approver."""

    def body(ctx: CommandContext) -> None:
        row, _standing = checked_task(ctx, task_id, "urge")
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
