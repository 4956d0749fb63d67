"""Commands that change who holds a task: claim, release, transfer (转办), delegate (委派), reassign."""

from sqlalchemy import bindparam
from sqlalchemy import update

from domain.accounts.colleagues import is_colleague
from domain.accounts.users import Actor
from engine.errors import InvalidCommand
from engine.errors import NotAColleague
from engine.errors import TaskHeldByOther
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import OPEN
from engine.runtime.task_rows import TASKS
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import assignee_name
from engine.runtime.task_rows import change_task
from engine.runtime.task_rows import load_task
from engine.runtime.task_rows import sync_queue
from engine.runtime.task_rows import unqueue
from engine.tasks import permissions
from engine.tasks.access import checked_task
from engine.tasks.countersign import move_active_turn

_CLAIM = (
    update(TASKS)
    .where(TASKS.c.id == bindparam("task_id"), TASKS.c.state == OPEN, TASKS.c.assignee_id.is_(None))
    .values(assignee_id=bindparam("claimant"))
)


def claim_task(rt: Runtime, actor: Actor, task_id: int) -> None:
    """Take a queued task as one's own."""

    def body(ctx: CommandContext) -> None:
        row = ctx.task_row(task_id)
        if row is not None and row.state == "open" and row.assignee_id == actor.id:
            return  # claiming one's own task again changes nothing
        row, _standing = checked_task(ctx, task_id, "claim")
        if ctx.db.execute(_CLAIM, {"task_id": row.id, "claimant": actor.id}).rowcount != 1:
            winner = load_task(ctx.db, row.id)
            raise TaskHeldByOther(assignee_name(ctx.session, winner.assignee_id if winner else None))
        row.assignee_id = actor.id
        unqueue(ctx.db, row.id)
        ctx.audit(row.instance_id, "claim", row)

    run_command(rt, "claim", actor, body, task_id)


def unclaim_task(rt: Runtime, actor: Actor, task_id: int) -> None:
    """Put one's claimed task back into its group queue."""

    def body(ctx: CommandContext) -> None:
        row, _standing = checked_task(ctx, task_id, "release")
        change_task(ctx.db, row, assignee_id=None)
        sync_queue(ctx.db, row)
        ctx.audit(row.instance_id, "unclaim", row)

    run_command(rt, "unclaim", actor, body, task_id)


def transfer_task(rt: Runtime, actor: Actor, task_id: int, to_user_id: int, opinion: str = "") -> None:
    """Hand a task over to another approver for good (转办)."""
    to_self = InvalidCommand("transfer_to_self")
    _hand_over(rt, actor, task_id, to_user_id, opinion, "transfer", to_self, "转办给您", owner_id=None)


def delegate_task(rt: Runtime, actor: Actor, task_id: int, to_user_id: int, opinion: str = "") -> None:
    """Ask another approver to work a task; it comes back to the delegator afterwards (委派)."""
    to_self = InvalidCommand("delegate_to_self")
    _hand_over(rt, actor, task_id, to_user_id, opinion, "delegate", to_self, "委派给您", owner_id=actor.id)


def _hand_over(rt, actor, task_id, to_user_id, opinion, action, to_self, title, owner_id) -> None:
    """Give the task to a colleague as `action` (transfer or delegate), `owner_id` keeping the delegator."""

    def body(ctx: CommandContext) -> None:
        row, standing = checked_task(ctx, task_id, action)
        permissions.require_opinion(standing, action, opinion)
        if to_user_id == actor.id:
            raise to_self
        _require_colleague(ctx, actor, to_user_id)
        to_name = assignee_name(ctx.session, to_user_id, required=True)
        change_task(ctx.db, row, owner_id=owner_id, assignee_id=to_user_id)
        sync_queue(ctx.db, row)
        ctx.notify([f"u:{to_user_id}"], action, f"{title}：{row.name}", row.subject, row.instance_id, row.id)
        ctx.audit(row.instance_id, action, row, opinion, to_user_id=to_user_id, to_name=to_name)

    run_command(rt, action, actor, body, task_id)


def reassign_task(rt: Runtime, actor: Actor, task_id: int, to_user_id: int, opinion: str) -> None:
    """Give a task to another approver, whoever holds it now (administrators only, 改派)."""

    def body(ctx: CommandContext) -> None:
        row, standing = checked_task(ctx, task_id, "reassign")
        permissions.require_opinion(standing, "reassign", opinion)
        if to_user_id == row.assignee_id:
            raise InvalidCommand("reassign_same_holder")
        to_name = assignee_name(ctx.session, to_user_id, required=True)
        from_id = row.assignee_id
        move_active_turn(ctx, row, to_user_id)
        change_task(ctx.db, row, assignee_id=to_user_id)
        sync_queue(ctx.db, row)
        ctx.notify([f"u:{to_user_id}"], "reassign", f"改派给您：{row.name}", opinion, row.instance_id, row.id)
        if from_id is not None:
            ctx.notify(
                [f"u:{from_id}"], "reassign", f"您的待办已改派：{row.name}", opinion, row.instance_id, row.id
            )
        from_name = assignee_name(ctx.session, from_id)
        details = {
            "from_user_id": from_id,
            "from_name": from_name,
            "to_user_id": to_user_id,
            "to_name": to_name,
        }
        ctx.audit(row.instance_id, "reassign", row, opinion, **details)

    run_command(rt, "reassign", actor, body, task_id)


def _require_colleague(ctx: CommandContext, actor: Actor, user_id: int) -> None:
    """Refuse to hand a task to anyone but another active user of the actor's organisation (转办, 委派)."""
    if not is_colleague(ctx.session, actor, user_id):
        raise NotAColleague(user_id)


def resolve_delegation(ctx: CommandContext, row: TaskRow, opinion: str) -> None:
    """Hand a delegated task back to its owner, with the delegate's opinion."""
    owner = row.owner_id
    change_task(ctx.db, row, assignee_id=owner, owner_id=None)
    ctx.notify([f"u:{owner}"], "delegate_back", f"委派已处理：{row.name}", opinion, row.instance_id, row.id)
    ctx.audit(row.instance_id, "resolve", row, opinion, back_to=owner)
