"""Open tasks' due dates counted again when the holiday calendar of a year changes."""

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.calendar.deadlines import china_time
from domain.calendar.deadlines import recount_deadline
from domain.calendar.holidays import WorkingCalendar
from engine.runtime.models import OPEN
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate

DUE_MOVED = "due_moved"


@dataclass(frozen=True)
class MovedDue:
    """An open task whose due date a calendar change moves."""

    task_id: int
    instance_id: int
    name: str
    due_at: datetime
    new_due_at: datetime


def moved_due_dates(
    session: Session, year: int, old: WorkingCalendar, new: WorkingCalendar
) -> list[MovedDue]:
    """Return the open tasks whose working-day count reaches into `year` and lands elsewhere on `new`."""
    year_starts = china_time(datetime.combine(date(year, 1, 1), time()))
    next_year = china_time(datetime.combine(date(year + 1, 1, 1), time()))
    rows = session.execute(
        select(HumanTask.id, HumanTask.instance_id, HumanTask.name, HumanTask.created_at, HumanTask.due_at)
        .where(
            HumanTask.state == OPEN,
            HumanTask.due_at >= year_starts,
            HumanTask.created_at < next_year,
        )
        .order_by(HumanTask.id)
    )
    moved = []
    for task_id, instance_id, name, created_at, due_at in rows:
        new_due = recount_deadline(old, new, created_at, due_at)
        if new_due != due_at:
            moved.append(MovedDue(task_id, instance_id, name, due_at, new_due))
    return moved


def move_due_dates(
    session: Session, moved: list[MovedDue], actor_id: int | None, actor_name: str, now: datetime
):
    """Write the moved due dates onto the tasks and their queue rows; audit each on its process."""
    for task in moved:
        session.execute(
            update(HumanTask)
            .where(HumanTask.id == task.task_id)
            .values(due_at=task.new_due_at, due_sort=task.new_due_at)
        )
        session.execute(
            update(HumanTaskCandidate)
            .where(HumanTaskCandidate.human_task_id == task.task_id)
            .values(due_sort=task.new_due_at)
        )
        session.add(
            AuditEvent(
                instance_id=task.instance_id,
                human_task_id=task.task_id,
                task_name=task.name,
                action=DUE_MOVED,
                actor_id=actor_id,
                actor_name=actor_name,
                details={"from": task.due_at.isoformat(), "to": task.new_due_at.isoformat()},
                created_at=now,
            )
        )
    session.flush()
