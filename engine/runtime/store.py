"""Keep workflows in the instance row: serialized without their spec, saved with optimistic locking."""

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from engine.runtime.models import OPEN
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskCountersign
from engine.runtime.statements import Prepared
from engine.runtime.task_rows import TASK_COLUMNS
from engine.runtime.task_rows import TASKS
from engine.runtime.task_rows import TaskRow

INSTANCES = ProcessInstance.__table__


class VersionConflict(Exception):
    """The instance changed since it was loaded: another command won the race."""


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a workflow's state only; the spec belongs to the definition version and is cached."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    SpecFreeWorkflowConverter(BpmnWorkflow, registry)
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _make_serializer()
FORMAT_KEY = "ceflow_state_format"
FORMAT = 1
MAX_STATE_BYTES = 1_000_000  # a registration's state is a few kilobytes; large content is an attachment


class StateTooLarge(ValueError):
    """A workflow's state grew past MAX_STATE_BYTES; the step is refused and becomes an incident."""

    def __init__(self, size: int):
        self.size = size
        super().__init__(
            f"The process data would take {size:,} bytes; at most {MAX_STATE_BYTES:,} are kept per "
            "instance. Store large content as an attachment."
        )


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Return the workflow's state as JSON, without its spec."""
    serializer = SERIALIZER
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
    finally:
        serializer.registry._encoder_mode = False
    dct[FORMAT_KEY] = FORMAT
    text = json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))
    if len(text) * 3 > MAX_STATE_BYTES and len(text.encode()) > MAX_STATE_BYTES:  # encode only when near
        raise StateTooLarge(len(text.encode()))
    return text


def load_workflow(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    """Restore a workflow from its state and its cached spec, with a fresh script engine attached."""
    dct = json.loads(state)
    dct.pop(FORMAT_KEY, None)
    workflow = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


@dataclass
class InstanceRecord:
    """What a command reads and writes of an instance row, besides its state: a plain record, no ORM."""

    id: int | None
    definition_id: int
    process_key: str
    business_key: str | None
    initiator_id: int | None
    subject: str
    region_code: str | None
    status: str = "running"
    version: int = 1
    created_at: datetime | None = None
    ended_at: datetime | None = None


_RECORD_COLUMNS = tuple(INSTANCES.c[name] for name in InstanceRecord.__dataclass_fields__)
# Built once and run as prepared statements: through SQLAlchemy's execute each would cost more
# Python than the database takes to run it.
_LOAD = Prepared(
    select(*_RECORD_COLUMNS, INSTANCES.c.state).where(INSTANCES.c.id == bindparam("instance_id"))
)
_INSERT = Prepared(insert(INSTANCES).returning(INSTANCES.c.id))
_INSERT_NUMBERED = Prepared(insert(INSTANCES))  # with an id drawn before (NEXT_INSTANCE_ID)
# the next instance id from the id column's own sequence (PostgreSQL), read with another statement
NEXT_INSTANCE_ID = func.nextval(func.pg_get_serial_sequence(INSTANCES.name, INSTANCES.c.id.name))
_SAVE = Prepared(
    update(INSTANCES).where(
        INSTANCES.c.id == bindparam("instance_id"), INSTANCES.c.version == bindparam("expected")
    )
)
_SIBLINGS = TASKS.alias("sibling")
_COUNTERSIGNS = TaskCountersign.__table__
_TASK_AND_INSTANCE = Prepared(
    select(
        *TASK_COLUMNS,
        *_RECORD_COLUMNS,
        INSTANCES.c.state,
        select(func.count())
        .where(_SIBLINGS.c.instance_id == TASKS.c.instance_id, _SIBLINGS.c.state == OPEN)
        .scalar_subquery(),
        exists().where(  # open_user_id is set while a countersign is pending or active
            _COUNTERSIGNS.c.human_task_id == TASKS.c.id, _COUNTERSIGNS.c.open_user_id.is_not(None)
        ),
    )
    .join_from(TASKS, INSTANCES, TASKS.c.instance_id == INSTANCES.c.id)
    .where(TASKS.c.id == bindparam("task_id"))
)


@dataclass(frozen=True)
class TaskRead:
    """A task row read with its instance row and state, and what a command would otherwise ask next."""

    row: TaskRow
    instance: InstanceRecord
    state: str | None  # None once a load has used it
    open_tasks: int  # the instance's open task rows when read, this one included
    countersigning: bool  # the task has pending or active countersigns (加签)


def load_task_and_instance(db, task_id: int) -> TaskRead | None:
    """Read a task row with its instance row and state, its open siblings and countersigns: one statement."""
    found = db.first(_TASK_AND_INSTANCE, {"task_id": task_id})
    if found is None:
        return None
    split = len(TASK_COLUMNS)
    row, instance = TaskRow(*found[:split]), InstanceRecord(*found[split:-3])
    return TaskRead(row, instance, found[-3], found[-2], bool(found[-1]))


def load_instance(db, instance_id: int) -> tuple[InstanceRecord, str] | None:
    """Read an instance row and its state in one statement, or None when there is no such row."""
    row = db.first(_LOAD, {"instance_id": instance_id})
    if row is None:
        return None
    return InstanceRecord(*row[:-1]), row[-1]


def insert_instance(db, instance: InstanceRecord, workflow: BpmnWorkflow, now) -> None:
    """Insert a new instance row with its first state; one statement.

    An instance whose id was drawn before (NEXT_INSTANCE_ID) is written with it, without waiting
    for an answer; otherwise the INSERT returns the id and it is set on the record.
    """
    values = {c.key: getattr(instance, c.key) for c in _RECORD_COLUMNS if c.key != "id"}
    values.update(state=dump_workflow(workflow), updated_at=now, created_at=instance.created_at or now)
    if instance.id is not None:
        db.run(_INSERT_NUMBERED, {"id": instance.id, **values})
    else:
        instance.id = db.scalar(_INSERT, values)


def save_state(db, instance: InstanceRecord, workflow: BpmnWorkflow, now) -> None:
    """Write the workflow into its row if nobody else did since it was loaded, else raise VersionConflict.

    Pipelined on PostgreSQL, the conflict is raised when the answer comes, always before the commit.
    """
    expected = instance.version
    values = {
        "instance_id": instance.id,
        "expected": expected,
        "state": dump_workflow(workflow),
        "version": expected + 1,
        "updated_at": now,
        "status": instance.status,
        "ended_at": instance.ended_at,
        "subject": instance.subject,
    }
    db.run(_SAVE, values, unless_one=VersionConflict(instance.id))
    instance.version = expected + 1
