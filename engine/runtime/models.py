"""Tables of the workflow runtime: definitions, instances, the inbox projection, timers, audit."""

from datetime import date
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import event
from sqlalchemy import literal_column
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from domain.base import Base
from engine.runtime.statements import GUARD_FUNCTION_DDL

# An index pays a page write in every transaction that inserts or changes a row it holds. The inbox's
# indexes hold only the rows their lists read; a query uses one only if it repeats the condition
# word for word, so queries write a task's state as the literal OPEN or DONE, never as a parameter:
# SQLite re-prepares a statement at every run when a parameter might match a partial index's term.
HELD_OPEN = "state = 'open' AND assignee_id IS NOT NULL"
DONE_BY = "completed_by_id IS NOT NULL"
OPEN = literal_column("'open'")
DONE = literal_column("'done'")


# the server-side one-row check of pipelined writes (engine.runtime.statements), with the tables
event.listen(Base.metadata, "after_create", GUARD_FUNCTION_DDL)


def partial(where: str) -> dict:
    """Return an Index's keyword arguments that make it partial on both stores."""
    return {"sqlite_where": text(where), "postgresql_where": text(where)}


class ProcessDefinition(Base):
    """One deployed version of a BPMN process."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(255))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]


class ProcessInstance(Base):
    """A running or ended process; `state` is the serialized workflow without its spec."""

    __tablename__ = "process_instance"
    __table_args__ = (
        # most instances have no business key: only those with one are indexed
        Index("ix_process_instance_business_key", "business_key", **partial("business_key IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # not indexed: an instance leads to its definition, never the other way round
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    process_key: Mapped[str] = mapped_column(String(128))
    business_key: Mapped[str | None] = mapped_column(String(128))
    initiator_id: Mapped[int | None]
    subject: Mapped[str] = mapped_column(String(255), default="")
    region_code: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default="running")
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class HumanTask(Base):
    """The inbox projection of one user task: written with the instance, read without it."""

    __tablename__ = "human_task"
    __table_args__ = (
        # "mine" reads only open tasks someone holds: a queue task or a closed one costs these no write
        Index("ix_human_task_assignee_open", "assignee_id", "due_sort", "id", **partial(HELD_OPEN)),
        Index("ix_human_task_done_by", "completed_by_id", "completed_at", "id", **partial(DONE_BY)),
        Index("ix_human_task_instance", "instance_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_uuid: Mapped[str] = mapped_column(String(36))  # a returned step comes back as the same task
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    process_key: Mapped[str] = mapped_column(String(128))
    spec_name: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    form_key: Mapped[str] = mapped_column(String(64))
    candidate_rule: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[str] = mapped_column(Text, default="")
    allowed_actions: Mapped[str] = mapped_column(String(255), default="")
    # the actions that need an opinion on this step (engine.diagrams.settings.opinion_required)
    opinion_required: Mapped[str] = mapped_column(
        String(255), server_default="return,reject,countersign,reassign"
    )
    state: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[int | None]
    owner_id: Mapped[int | None]
    subject: Mapped[str] = mapped_column(String(255), default="")
    region_code: Mapped[str | None] = mapped_column(String(6))
    priority: Mapped[int] = mapped_column(default=50)
    escalation_level: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    due_sort: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None]
    completed_by_name: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16))


class HumanTaskCandidate(Base):
    """One principal (user or group) that may claim an open task; gone once the task closes."""

    __tablename__ = "human_task_candidate"
    __table_args__ = (
        Index("ix_candidate_queue", "principal", "due_sort", "human_task_id"),
        # rows live in their primary key's tree on SQLite: no rowid tree to write beside it
        {"sqlite_with_rowid": False},
    )

    human_task_id: Mapped[int] = mapped_column(
        ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True
    )
    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_sort: Mapped[datetime]
    created_at: Mapped[datetime]  # the task's, as is priority: a queue sorts its own rows, no join
    priority: Mapped[int]


class TimerJob(Base):
    """A waiting timer event, fired exactly once by whichever sweeper leases it."""

    __tablename__ = "timer_job"
    __table_args__ = (Index("ix_timer_job_due", "fired_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    spec_name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # set when its retries ran out: no sweep claims it until an administrator retries the incident
    gave_up_at: Mapped[datetime | None]


class AuditEvent(Base):
    """An append-only record of one command or timer firing."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    human_task_id: Mapped[int | None]
    task_name: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(64))
    opinion: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class Incident(Base):
    """An engine step that failed; the instance stays at its last good state until retried."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    command: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="open", server_default="open")  # or resolved
    step: Mapped[str | None] = mapped_column(String(255))  # the diagram step that failed, when known
    tries: Mapped[int] = mapped_column(default=1, server_default="1")  # the failed step's runs so far
    resolved_by: Mapped[int | None]  # the administrator's user id
    replay: Mapped[dict | None] = mapped_column(JSON)  # the failed command's input, for a retry


class TaskCc(Base):
    """A copy of a task sent to a user or group for information (抄送); read once, acted on never."""

    __tablename__ = "task_cc"
    __table_args__ = (
        Index("ix_task_cc_inbox", "principal", "at", "id"),
        Index("ix_task_cc_unread", "principal", "read_at"),
        Index("ix_task_cc_task", "human_task_id", "principal", unique=True),  # one copy per reader
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    principal: Mapped[str] = mapped_column(String(64))
    by_user_id: Mapped[int | None]
    at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class TaskCountersign(Base):
    """An approver added to a step: pending (not their turn yet), active (theirs now), done or cancelled."""

    __tablename__ = "task_countersign"
    __table_args__ = (
        # `open_user_id` is the user id while the row is pending or active and NULL after: one open
        # countersign per user and task, kept by the database even when two requests race.
        UniqueConstraint("human_task_id", "open_user_id"),
        Index("ix_task_countersign_task_state", "human_task_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    position: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int]
    open_user_id: Mapped[int | None]
    requested_by_id: Mapped[int]
    requested_at: Mapped[datetime]
    request_opinion: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    opinion: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None]


class TaskUrge(Base):
    """One urge of a task; the unique (task, China date) pair makes it once a day, races included."""

    __tablename__ = "task_urge"
    __table_args__ = (UniqueConstraint("human_task_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    day: Mapped[date]
    by_user_id: Mapped[int]
    at: Mapped[datetime]


# Keyset scans of the lists' other sort orders (the due-date scans use engine.runtime.models' own indexes).
Index(
    "ix_human_task_assignee_created",
    HumanTask.assignee_id,
    HumanTask.created_at,
    HumanTask.id,
    **partial(HELD_OPEN),
)
Index(
    "ix_human_task_assignee_priority",
    HumanTask.assignee_id,
    HumanTask.priority.desc(),
    HumanTask.due_sort,
    HumanTask.id,
    **partial(HELD_OPEN),
)
# A queue sorted by priority has no index of its own: PostgreSQL took a (principal, priority, due_sort)
# one for due-filtered queue pages, scanning and sorting the whole due window in parallel (19 ms
# against 1.5 ms reading ix_candidate_queue in order). That sort reads the queue rows alone instead.
Index(
    "ix_candidate_queue_created",
    HumanTaskCandidate.principal,
    HumanTaskCandidate.created_at,
    HumanTaskCandidate.human_task_id,
)
Index(
    "ix_process_instance_started",
    ProcessInstance.initiator_id,
    ProcessInstance.created_at,
    ProcessInstance.id,
)
