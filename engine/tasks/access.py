"""Who may see and work a task: the checks every task command starts with."""

from sqlalchemy import bindparam
from sqlalchemy import update

from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound
from engine.runtime.context import CommandContext
from engine.runtime.models import OPEN
from engine.runtime.statements import Prepared
from engine.runtime.store import VersionConflict
from engine.runtime.task_rows import TASKS
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import assignee_name
from engine.runtime.task_rows import unqueue
from engine.tasks.visibility import may_act
from engine.tasks.visibility import may_view

_FINISH = Prepared(update(TASKS).where(TASKS.c.id == bindparam("task_id"), TASKS.c.state == OPEN))


def acting_task(ctx: CommandContext, task_id: int, with_instance: bool = False) -> TaskRow:
    """Return a task the actor works (holder, owner, candidate, administrator), open or not.

    A reader (a copy's, the initiator, an earlier handler) gets NotAllowed; anyone else TaskNotFound.
    """
    row = ctx.task_row(task_id, with_instance)
    if row is not None and may_act(row, ctx.actor):
        return row
    if row is not None and may_view(ctx.session, row, ctx.actor):
        raise NotAllowed("read_only")
    raise TaskNotFound(task_id)


def visible_open_task(ctx: CommandContext, task_id: int, with_instance: bool = False) -> TaskRow:
    """Return an open task the actor works; raise TaskNotFound, NotAllowed or TaskAlreadyHandled otherwise."""
    row = acting_task(ctx, task_id, with_instance)
    if row.state != "open":
        raise TaskAlreadyHandled(row.completed_by_name, row.completed_at)
    return row


def workable_task(ctx: CommandContext, task_id: int, action: str, with_instance: bool = False) -> TaskRow:
    """Return an open task the actor may work with this action, or raise why not; see `ctx.task_row`."""
    row = visible_open_task(ctx, task_id, with_instance)
    actor = ctx.actor
    if row.assignee_id is not None and row.assignee_id != actor.id:
        raise TaskHeldByOther(assignee_name(ctx.session, row.assignee_id))
    if action not in row.allowed_actions.split(",") and action != "approve":
        raise NotAllowed("action_not_allowed", action=action)
    return row


def require_opinion(opinion: str, action: str) -> None:
    """Refuse an empty opinion where the action needs one."""
    if not (opinion or "").strip():
        raise InvalidCommand("opinion_required", action=action)


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
    if ctx.db.run(_FINISH, {"task_id": row.id, **values}) != 1:
        raise VersionConflict(row.instance_id)
    for key, value in values.items():
        setattr(row, key, value)
    unqueue(ctx.db, row.id)
