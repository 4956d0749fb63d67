"""The inbox rows as commands read and change them: plain records and prebuilt Core statements, no ORM."""

from dataclasses import dataclass
from dataclasses import fields
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.accounts.users import User
from engine.errors import InvalidCommand
from engine.runtime.models import OPEN
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from engine.runtime.models import TaskCountersign
from engine.runtime.statements import Prepared

TASKS = HumanTask.__table__
COUNTERSIGNS = TaskCountersign.__table__
QUEUE = HumanTaskCandidate.__table__


@dataclass
class TaskRow:
    """The columns of a human_task row that commands read; change them with `change_task` only."""

    id: int
    task_uuid: str
    instance_id: int
    name: str
    subject: str
    candidate_rule: str
    candidates: str
    allowed_actions: str
    opinion_required: str
    state: str
    assignee_id: int | None
    owner_id: int | None
    escalation_level: int
    due_sort: datetime
    completed_at: datetime | None
    completed_by_id: int | None
    completed_by_name: str | None
    outcome: str | None


# Built once and run as prepared statements (engine/runtime/statements.py): through SQLAlchemy's execute
# each would cost more Python than the database takes to run it.
TASK_COLUMNS = tuple(TASKS.c[f.name] for f in fields(TaskRow))
_ONE = Prepared(select(*TASK_COLUMNS).where(TASKS.c.id == bindparam("task_id")))
_OPEN = Prepared(
    select(*TASK_COLUMNS)
    .where(TASKS.c.instance_id == bindparam("instance_id"), TASKS.c.state == OPEN)
    .order_by(TASKS.c.id)
)
_CHANGE = Prepared(update(TASKS).where(TASKS.c.id == bindparam("task_id")))
INSERT_TASK = Prepared(insert(TASKS))


def _queue_rows_of(*where) -> Prepared:
    """Return an insert of queue rows for the task row `where` finds, one per principal given.

    The task's creation time and priority come along for the queue's sort orders.
    """
    return Prepared(
        insert(QUEUE).from_select(
            ["human_task_id", "principal", "due_sort", "created_at", "priority"],
            select(
                TASKS.c.id,
                bindparam("principal", type_=QUEUE.c.principal.type),
                bindparam("due_sort", type_=QUEUE.c.due_sort.type),
                TASKS.c.created_at,
                TASKS.c.priority,
            ).where(*where),
        )
    )


_INSERT_QUEUE = _queue_rows_of(TASKS.c.id == bindparam("task_id"))
# a task row just inserted, found without its id: an instance has one open row per workflow task, and
# not waiting for the id lets PostgreSQL take the task and its queue rows in the same round trip
_INSERT_NEW_QUEUE = _queue_rows_of(
    TASKS.c.instance_id == bindparam("instance_id"),
    TASKS.c.task_uuid == bindparam("task_uuid"),
    TASKS.c.state == OPEN,
)
_DELETE_QUEUE = Prepared(delete(QUEUE).where(QUEUE.c.human_task_id == bindparam("task_id")))


def load_task(db, task_id: int) -> TaskRow | None:
    """Return one task row, or None."""
    found = db.first(_ONE, {"task_id": task_id})
    return TaskRow(*found) if found is not None else None


def open_rows(db, instance_id: int) -> list[TaskRow]:
    """Return the open task rows of an instance, oldest first."""
    return [TaskRow(*found) for found in db.all(_OPEN, {"instance_id": instance_id})]


def holders(row: TaskRow) -> list[str]:
    """Return whom a notice about a task goes to: its holder, or else its candidates."""
    return [f"u:{row.assignee_id}"] if row.assignee_id else row.candidates.split()


def change_task(db, row: TaskRow, **values) -> None:
    """Write changed columns of a task row and keep the record in step."""
    db.run(_CHANGE, {"task_id": row.id, **values})
    for key, value in values.items():
        setattr(row, key, value)


def sync_queue(db, row: TaskRow) -> None:
    """Offer an open, unassigned task to its candidates' queues; take it off them otherwise."""
    db.run(_DELETE_QUEUE, {"task_id": row.id})
    if row.state == "open" and row.assignee_id is None:
        offer(db, row.id, row.candidates, row.due_sort)


def offer(db, task_id: int, principals: str, due_sort: datetime) -> None:
    """Insert a task's queue rows, one per principal, in one statement."""
    _offer(db, _INSERT_QUEUE, {"task_id": task_id}, principals, due_sort)


def offer_new(db, instance_id: int, task_uuid: str, principals: str, due_sort: datetime) -> None:
    """Insert the queue rows of the open task row of a workflow task just inserted, without its id."""
    _offer(db, _INSERT_NEW_QUEUE, {"instance_id": instance_id, "task_uuid": task_uuid}, principals, due_sort)


def _offer(db, prepared: Prepared, task: dict, principals: str, due_sort: datetime) -> None:
    unique = dict.fromkeys(principals.split())
    db.run_many(prepared, [{**task, "principal": p, "due_sort": due_sort} for p in unique])


def unqueue(db, task_id: int) -> None:
    """Take a task off every queue."""
    db.run(_DELETE_QUEUE, {"task_id": task_id})


CLOSE_COUNTERSIGNS = Prepared(
    update(COUNTERSIGNS)
    .where(COUNTERSIGNS.c.human_task_id == bindparam("task_id"), COUNTERSIGNS.c.open_user_id.is_not(None))
    .values(state="cancelled", open_user_id=None)
)


def assignee_name(session: Session, user_id: int | None, required: bool = False) -> str | None:
    """Return a user's display name; with `required`, refuse an unknown or inactive user."""
    user = session.get(User, user_id) if user_id is not None else None
    if required and (user is None or not user.active):
        raise InvalidCommand("no_active_user", user_id=user_id)
    return user.display_name if user else None
