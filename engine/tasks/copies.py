"""Copying a task for information (抄送): who may copy it, to whom, and reading the copies one received."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.accounts.principals import user_principal
from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions
from engine.errors import InvalidCommand
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import HumanTask
from engine.runtime.models import TaskCc
from engine.runtime.task_rows import TaskRow
from engine.tasks.access import checked_task

MAX_RECIPIENTS = 20
MAX_NOTE = 1000
_INSERT_COPY = insert(TaskCc.__table__)


@dataclass(frozen=True)
class Recipient:
    id: int
    name: str


@dataclass(frozen=True)
class CopyResult:
    """What a copy did: to whom it went now, and who had a copy of the task already (not sent again)."""

    task_id: int
    copied: tuple[Recipient, ...]
    already: tuple[Recipient, ...]


def copy_task(rt: Runtime, actor: Actor, task_id: int, user_ids: list[int], note: str = "") -> CopyResult:
    """Send a copy of a task to some users for information (抄送); a user who has one gets no second."""
    note = (note or "").strip()

    def body(ctx: CommandContext) -> CopyResult:
        row, _standing = checked_task(ctx, task_id, "copy")
        if len(note) > MAX_NOTE:
            raise InvalidCommand("copy_note_too_long", most=MAX_NOTE)
        recipients = _recipients(ctx.session, actor, _task_region(ctx.session, row.id), user_ids)
        had = _already_copied(ctx.session, row.id, recipients)
        new = tuple(r for r in recipients if r.id not in had)
        if new:
            _insert_copies(ctx, row, new)
            title = f"抄送给您：{row.name}"[:255]
            principals = [user_principal(r.id) for r in new]
            ctx.notify(principals, "cc", title, note or row.subject, row.instance_id, row.id)
            names = [r.name for r in new]
            ctx.audit(row.instance_id, "cc", row, note, to_user_ids=[r.id for r in new], to_names=names)
        return CopyResult(row.id, new, tuple(r for r in recipients if r.id in had))

    return run_command(rt, "cc", actor, body, task_id)


def _task_region(session: Session, task_id: int) -> str | None:
    return session.scalar(select(HumanTask.region_code).where(HumanTask.id == task_id))


def _recipients(session: Session, actor: Actor, region: str | None, user_ids) -> tuple[Recipient, ...]:
    """Check the users a task is copied to: known, active, not oneself, and able to see its region."""
    wanted = _wanted_ids(actor, user_ids)
    rows = session.execute(
        select(
            User.id,
            User.display_name,
            User.organisation_id,
            User.is_admin,
            Organisation.kind,
            Organisation.region_code,
        )
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.id.in_(wanted), User.active.is_(True))
    ).all()
    found = {row.id: row for row in rows}
    missing = [user_id for user_id in wanted if user_id not in found]
    if missing:
        raise InvalidCommand("no_active_user", user_id=missing[0])
    above = set(ancestors(load_regions(session), region)) | {region} if region else set()
    for row in rows:
        hrss_above = row.kind == OrganisationKind.HRSS and row.region_code in above
        colleague = row.organisation_id is not None and row.organisation_id == actor.organisation_id
        if not (row.is_admin or hrss_above or colleague):
            raise InvalidCommand("copy_outside_region", name=row.display_name)
    return tuple(Recipient(user_id, found[user_id].display_name) for user_id in wanted)


def _wanted_ids(actor: Actor, user_ids) -> list[int]:
    """Return the distinct user ids asked for, in order; refuse none, too many, non-numbers and oneself."""
    if not isinstance(user_ids, list | tuple) or not user_ids:
        raise InvalidCommand("copy_nobody")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in user_ids):
        raise InvalidCommand("copy_bad_user_ids")
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > MAX_RECIPIENTS:
        raise InvalidCommand("copy_too_many", most=MAX_RECIPIENTS)
    if actor.id in wanted:
        raise InvalidCommand("copy_to_self")
    return wanted


def _already_copied(session: Session, task_id: int, recipients: tuple[Recipient, ...]) -> set[int]:
    """Return the ids of those recipients who have a copy of the task already (ix_task_cc_task)."""
    principals = {user_principal(r.id): r.id for r in recipients}
    rows = session.scalars(
        select(TaskCc.principal).where(
            TaskCc.human_task_id == task_id, TaskCc.principal.in_(list(principals))
        )
    )
    return {principals[p] for p in rows}


def _insert_copies(ctx: CommandContext, row: TaskRow, recipients: tuple[Recipient, ...]) -> None:
    rows = [
        {
            "instance_id": row.instance_id,
            "human_task_id": row.id,
            "principal": user_principal(r.id),
            "by_user_id": ctx.actor.id,
            "at": ctx.now,
            "read_at": None,
        }
        for r in recipients
    ]
    try:
        ctx.db.execute(_INSERT_COPY, rows)
    except IntegrityError as clash:  # the unique (task, principal) index: someone copied it just now
        raise InvalidCommand("copy_clash") from clash


def mark_copies_read(session: Session, actor: Actor, task_id: int, now: datetime) -> int:
    """Mark the unread copies of a task sent to the actor read (they opened it); return how many."""
    result = session.execute(
        update(TaskCc)
        .where(
            TaskCc.human_task_id == task_id,
            TaskCc.principal.in_(actor.principals),
            TaskCc.read_at.is_(None),
        )
        .values(read_at=now)
    )
    return result.rowcount


def mark_cc_read(session: Session, actor: Actor, cc_id: int, now: datetime) -> bool:
    """Mark a copy addressed to one of the actor's principals read; False if it already was.

    Raise LookupError for a copy that is not the actor's.
    """
    mine = select(TaskCc.read_at).where(TaskCc.id == cc_id, TaskCc.principal.in_(actor.principals))
    found = session.execute(mine).first()
    if found is None:
        raise LookupError(f"copy {cc_id}")
    if found.read_at is not None:
        return False
    session.execute(update(TaskCc).where(TaskCc.id == cc_id, TaskCc.read_at.is_(None)).values(read_at=now))
    return True
