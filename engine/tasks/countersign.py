"""Countersign (加签): ask another approver to approve a step before or after oneself."""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.accounts.users import actor_for
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import TaskCountersign
from engine.runtime.statements import Prepared
from engine.runtime.store import VersionConflict
from engine.runtime.task_rows import CLOSE_COUNTERSIGNS
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import assignee_name
from engine.runtime.task_rows import change_task
from engine.runtime.task_rows import unqueue
from engine.tasks import permissions
from engine.tasks.access import checked_task

POSITIONS = ("before", "after")
TABLE = TaskCountersign.__table__


@dataclass
class Countersign:
    """An open countersign row as commands read it."""

    id: int
    position: str
    user_id: int
    requested_by_id: int
    state: str


# Open rows are the ones holding open_user_id; read on every completion, so run on the bare driver.
OPEN_ROWS = Prepared(
    select(TABLE.c.id, TABLE.c.position, TABLE.c.user_id, TABLE.c.requested_by_id, TABLE.c.state)
    .where(TABLE.c.human_task_id == bindparam("task_id"), TABLE.c.open_user_id.is_not(None))
    .order_by(TABLE.c.id)
)
INSERT = insert(TABLE)
MOVE = Prepared(
    update(TABLE).where(TABLE.c.id == bindparam("row_id"), TABLE.c.state == bindparam("from_state"))
)


def open_countersigns(db, task_id: int) -> list[Countersign]:
    """Return a task's pending and active countersigns, oldest first."""
    return [Countersign(*found) for found in db.all(OPEN_ROWS, {"task_id": task_id})]


def active_of(current: list[Countersign], user_id: int) -> Countersign | None:
    """Return the countersign the user is working now, if any."""
    return next((c for c in current if c.state == "active" and c.user_id == user_id), None)


@dataclass(frozen=True)
class CountersignView:
    """An open countersign as the task page shows it."""

    position: str
    state: str
    user_id: int
    user_name: str
    requested_by_id: int
    requested_by_name: str
    request_opinion: str


def countersigns_of(session: Session, task_id: int) -> list[CountersignView]:
    """Return a task's open countersigns with the names of those involved, oldest first."""
    asked, by = User.__table__.alias("asked"), User.__table__.alias("by")
    rows = session.execute(
        select(
            TABLE.c.position,
            TABLE.c.state,
            TABLE.c.user_id,
            asked.c.display_name,
            TABLE.c.requested_by_id,
            by.c.display_name,
            TABLE.c.request_opinion,
        )
        .join(asked, asked.c.id == TABLE.c.user_id)
        .join(by, by.c.id == TABLE.c.requested_by_id)
        .where(TABLE.c.human_task_id == task_id, TABLE.c.open_user_id.is_not(None))
        .order_by(TABLE.c.id)
    )
    return [CountersignView(*row) for row in rows]


def countersign_task(
    rt: Runtime, actor: Actor, task_id: int, to_user_id: int, position: str, opinion: str
) -> None:
    """Add an approver before me (the task comes back to me) or after me (they decide after I approve)."""

    def body(ctx: CommandContext) -> None:
        row, standing = checked_task(ctx, task_id, "countersign")
        if position not in POSITIONS:
            raise InvalidCommand("countersign_position", position=position)
        permissions.require_opinion(standing, "countersign", opinion)
        current = open_countersigns(ctx.db, row.id)
        to_name = _check_added(ctx, row, to_user_id, current)
        _insert(ctx, row, to_user_id, position, opinion)
        if position == "before":
            change_task(ctx.db, row, assignee_id=to_user_id)
            unqueue(ctx.db, row.id)
        title = (
            f"加签给您：{row.name}"
            if position == "before"
            else f"后加签给您（待{actor.name}通过后办理）：{row.name}"
        )
        ctx.notify([f"u:{to_user_id}"], "countersign", title, opinion, row.instance_id, row.id)
        ctx.audit(
            row.instance_id,
            "countersign",
            row,
            opinion,
            position=position,
            to_user_id=to_user_id,
            to_name=to_name,
        )

    run_command(rt, "countersign", actor, body, task_id)


def _check_added(ctx: CommandContext, row: TaskRow, to_user_id: int, current: list[Countersign]) -> str:
    """Refuse oneself, an unknown or inactive user, one outside the task's reach, or one already asked."""
    if to_user_id == ctx.actor.id:
        raise InvalidCommand("countersign_self")
    added = actor_for(ctx.session, to_user_id)
    if added is None:
        raise InvalidCommand("no_active_user", user_id=to_user_id)
    colleague = ctx.actor.organisation_id is not None and added.organisation_id == ctx.actor.organisation_id
    if not colleague and not set(added.principals) & set(row.candidates.split()):
        raise InvalidCommand("countersign_stranger", name=added.name)
    if any(c.user_id == to_user_id for c in current):
        raise InvalidCommand("countersign_pending", name=added.name)
    return added.name


def _insert(ctx: CommandContext, row: TaskRow, to_user_id: int, position: str, opinion: str) -> None:
    """Insert the countersign row; a concurrent request for the same user loses on the unique key."""
    try:
        with ctx.session.begin_nested():
            ctx.db.execute(INSERT, _new_row(ctx, row, to_user_id, position, opinion))
    except IntegrityError as lost:
        raise InvalidCommand("countersign_pending_race") from lost


def _new_row(ctx: CommandContext, row: TaskRow, to_user_id: int, position: str, opinion: str) -> dict:
    return {
        "human_task_id": row.id,
        "position": position,
        "user_id": to_user_id,
        "open_user_id": to_user_id,
        "requested_by_id": ctx.actor.id,
        "requested_at": ctx.now,
        "request_opinion": opinion,
        "state": "active" if position == "before" else "pending",
        "opinion": "",
    }


def approve_in_turn(ctx: CommandContext, row: TaskRow, data: dict | None, opinion: str) -> bool:
    """Handle an approval that a countersign holds back; False when the step itself should complete now."""
    if not _may_have_countersigns(ctx, row):
        return False  # no query on the common path
    current = open_countersigns(ctx.db, row.id)
    if not current:
        return False
    active = next((c for c in current if c.state == "active"), None)
    if active is not None:
        return _added_approves(ctx, row, active, current, opinion)
    waiting = [c for c in current if c.position == "after"]
    if not waiting:
        return False
    _keep_form_data(ctx, row, data)
    ctx.audit(row.instance_id, "approve", row, opinion, countersign_next=waiting[0].user_id)
    _activate(ctx, row, waiting[0])
    return True


def _added_approves(
    ctx: CommandContext, row: TaskRow, active: Countersign, current: list[Countersign], opinion: str
) -> bool:
    """Record an added approver's agreement; pass the task on, or let the step complete (False)."""
    if active.user_id != ctx.actor.id:
        raise NotAllowed("not_your_turn")
    _move(ctx, active, "active", state="done", opinion=opinion or "", done_at=ctx.now, open_user_id=None)
    ctx.audit(row.instance_id, "countersign_approve", row, opinion, position=active.position)
    if active.position == "before":
        change_task(ctx.db, row, assignee_id=active.requested_by_id)
        ctx.notify(
            [f"u:{active.requested_by_id}"],
            "countersign_back",
            f"加签已处理：{row.name}",
            opinion,
            row.instance_id,
            row.id,
        )
        return True
    following = [c for c in current if c.position == "after" and c.state == "pending"]
    if not following:
        return False
    _activate(ctx, row, following[0])
    return True


def _activate(ctx: CommandContext, row: TaskRow, turn: Countersign) -> None:
    """Give the task to an added approver whose turn has come."""
    _move(ctx, turn, "pending", state="active")
    change_task(ctx.db, row, assignee_id=turn.user_id)
    unqueue(ctx.db, row.id)
    ctx.notify(
        [f"u:{turn.user_id}"],
        "countersign",
        f"轮到您加签审批：{row.name}",
        row.subject,
        row.instance_id,
        row.id,
    )


def _move(ctx: CommandContext, turn: Countersign, from_state: str, **values) -> None:
    """Change a countersign row from the state read; a lost race (a double submit) raises VersionConflict."""
    values = {"row_id": turn.id, "from_state": from_state, **values}
    ctx.db.run(MOVE, values, unless_one=VersionConflict(turn.id))


def _keep_form_data(ctx: CommandContext, row: TaskRow, data: dict | None) -> None:
    """Store the requester's form data on the step (which stays open), bumping the instance version."""
    instance, workflow = ctx.load(row.instance_id)
    task = workflow.get_task_from_id(UUID(row.task_uuid))
    task.data.update(data or {})
    ctx.save(instance, workflow)


def close_countersigns(ctx: CommandContext, row: TaskRow) -> None:
    """Before a return or reject (which the permissions allowed): cancel the open countersigns."""
    if _may_have_countersigns(ctx, row) and open_countersigns(ctx.db, row.id):
        ctx.db.run(CLOSE_COUNTERSIGNS, {"task_id": row.id})


def move_active_turn(ctx: CommandContext, row: TaskRow, to_user_id: int) -> None:
    """Give the active countersign of a reassigned task to its new holder."""
    current = open_countersigns(ctx.db, row.id) if _may_have_countersigns(ctx, row) else []
    active = next((c for c in current if c.state == "active"), None)
    if active is None:
        return
    if any(c.user_id == to_user_id for c in current):
        raise InvalidCommand("countersign_already", name=assignee_name(ctx.session, to_user_id))
    _move(ctx, active, "active", user_id=to_user_id, open_user_id=to_user_id)


def _may_have_countersigns(ctx: CommandContext, row: TaskRow) -> bool:
    """Say whether a task can have open countersigns: its step allows them and its read-ahead saw some."""
    return "countersign" in row.allowed_actions.split(",") and ctx.may_have_countersigns(row)
