"""The checks every task command starts with, and closing a task row."""

from sqlalchemy import bindparam
from sqlalchemy import update

from engine.errors import TaskNotFound
from engine.runtime.context import CommandContext
from engine.runtime.models import OPEN
from engine.runtime.statements import Prepared
from engine.runtime.store import VersionConflict
from engine.runtime.task_rows import TASKS
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import unqueue
from engine.tasks import permissions

_FINISH = Prepared(update(TASKS).where(TASKS.c.id == bindparam("task_id"), TASKS.c.state == OPEN))


def checked_task(ctx: CommandContext, task_id: int, action: str, with_instance: bool = False):
    """Refuse the action unless the actor may take it now (engine.tasks.permissions); return (row, standing).

    `with_instance` reads the instance with the row, for `ctx.load`.
    """
    row = ctx.task_row(task_id, with_instance)
    if row is None:
        raise TaskNotFound(task_id)
    turns = ctx.may_have_countersigns(row)  # False only when the read-ahead saw no open countersign
    standing = permissions.enforce_on_row(lambda: ctx.session, ctx.actor, row, action, ctx.now, turns)
    return row, standing


def finish_row(ctx: CommandContext, row: TaskRow, state: str, outcome: str) -> None:
    """Close an open task row as the actor's, off every queue; a lost race raises VersionConflict."""
    values = {
        "state": state,
        "outcome": outcome,
        "completed_at": ctx.now,
        "completed_by_id": ctx.actor.id,
        "completed_by_name": ctx.actor.name,
        "assignee_id": ctx.actor.id,
    }
    ctx.db.run(_FINISH, {"task_id": row.id, **values}, unless_one=VersionConflict(row.instance_id))
    for key, value in values.items():
        setattr(row, key, value)
    unqueue(ctx.db, row.id)
