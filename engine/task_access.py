"""Who may see and work a task: the checks every task command starts with."""

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from domain.accounts import Actor
from domain.accounts import User
from engine.context import CommandContext
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound
from engine.models import HumanTask
from engine.projection import DELETE_QUEUE
from engine.projection import TASKS
from engine.store import VersionConflict

_FINISH = update(TASKS).where(TASKS.c.id == bindparam("task_id"), TASKS.c.state == "open")


def visible_open_task(ctx: CommandContext, task_id: int) -> HumanTask:
    row = ctx.session.get(HumanTask, task_id)
    actor = ctx.actor
    if row is None or not may_see(row, actor):
        raise TaskNotFound(task_id)
    if row.state != "open":
        raise TaskAlreadyHandled(row.completed_by_name, row.completed_at)
    return row


def workable_task(ctx: CommandContext, task_id: int, action: str) -> HumanTask:
    row = visible_open_task(ctx, task_id)
    actor = ctx.actor
    if row.assignee_id is not None and row.assignee_id != actor.id:
        raise TaskHeldByOther(assignee_name(ctx.session, row.assignee_id))
    if action not in row.allowed_actions.split(",") and action != "approve":
        raise NotAllowed(f"This step does not allow '{action}'.")
    return row


def may_see(row: HumanTask, actor: Actor) -> bool:
    if actor.is_admin or row.assignee_id == actor.id or row.owner_id == actor.id:
        return True
    return bool(set(row.candidates.split()) & set(actor.principals))


def require_opinion(opinion: str, action: str) -> None:
    if not (opinion or "").strip():
        raise InvalidCommand(f"An opinion is required to {action} (请填写审批意见).")


def open_rows(session: Session, instance_id: int) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    return list(session.execute(query).scalars())


def assignee_name(session: Session, user_id: int | None, required: bool = False) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    if required and (user is None or not user.active):
        raise InvalidCommand(f"User {user_id} does not exist or is not active.")
    return user.display_name if user else None


def finish_row(ctx: CommandContext, row: HumanTask, state: str, outcome: str) -> None:
    """Close an open task row as the actor's, off every queue; a lost race raises VersionConflict."""
    values = {
        "state": state,
        "outcome": outcome,
        "completed_at": ctx.now,
        "completed_by_id": ctx.actor.id,
        "completed_by_name": ctx.actor.name,
        "assignee_id": ctx.actor.id,
    }
    finished = ctx.db.execute(_FINISH, {"task_id": row.id, **values})
    if finished.rowcount != 1:
        raise VersionConflict(row.instance_id)
    for key, value in values.items():  # the row now holds what the database holds; nothing left to flush
        set_committed_value(row, key, value)
    ctx.db.execute(DELETE_QUEUE, {"task_id": row.id})
