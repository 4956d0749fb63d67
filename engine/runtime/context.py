"""One command's working set: its transaction, actor, clock reading, and what it writes besides state."""

from dataclasses import replace
from datetime import datetime

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import insert
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.notices.records import Notice
from engine.errors import InvalidCommand
from engine.runtime import Runtime
from engine.runtime.definitions import specs_for
from engine.runtime.models import AuditEvent
from engine.runtime.projection import project_tasks
from engine.runtime.statements import Database
from engine.runtime.statements import Prepared
from engine.runtime.store import InstanceRecord
from engine.runtime.store import TaskRead
from engine.runtime.store import insert_instance
from engine.runtime.store import load_instance
from engine.runtime.store import load_task_and_instance
from engine.runtime.store import load_workflow
from engine.runtime.store import save_state
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import load_task
from engine.runtime.task_rows import open_rows
from engine.runtime.timer_jobs import sync_timer_jobs
from engine.scripting.script_engine import CommandScriptEngine

_INSERT_AUDIT = Prepared(insert(AuditEvent.__table__))
_INSERT_NOTICE = Prepared(insert(Notice.__table__))


class CommandContext:
    """Holds what one command reads and writes; everything commits together in its unit of work."""

    def __init__(self, rt: Runtime, db: Database | Session, actor: Actor | None, now: datetime | None = None):
        self.rt = rt
        # this command's connection: prepared statements, Core ones, and the ORM session on demand
        self.db = db if isinstance(db, Database) else Database(db)
        self.actor = actor
        self.now = now or rt.clock()
        self.loaded_instance_id: int | None = None
        self.operation_step: str | None = None  # the service task whose handler runs, named in an incident
        self.functions = {name: factory(self.now) for name, factory in rt.script_functions.items()}
        self._task_read: TaskRead | None = None

    @property
    def session(self) -> Session:
        """Return the ORM session of this command's transaction; made on first use, most commands never do."""
        return self.db.session

    @property
    def session_on_demand(self) -> Session:
        """Return a stand-in for `session` that makes it only when the callee uses it (candidate rules)."""
        return SessionOnDemand(self.db)

    @property
    def actor_name(self) -> str:
        """Return who acts, as the audit trail names them (the system for timers)."""
        return self.actor.name if self.actor else "系统"

    def script_engine(self) -> CommandScriptEngine:
        """Return a fresh script engine bound to this command."""
        return CommandScriptEngine(self)

    def new_workflow(self, definition_id: int) -> BpmnWorkflow:
        """Create a workflow of a definition version with this command's script engine."""
        parsed = specs_for(self.rt, self.session_on_demand, definition_id)  # cached: no session
        return BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=self.script_engine())

    def task_row(self, task_id: int, with_instance: bool = False) -> TaskRow | None:
        """Read a task row; `with_instance` also reads its instance in the same statement, for `load`."""
        if not with_instance:
            return load_task(self.db, task_id)
        found = load_task_and_instance(self.db, task_id)
        if found is None:
            return None
        self._task_read = found
        return found.row

    def may_have_countersigns(self, row: TaskRow) -> bool:
        """Say whether the task may have open countersigns; False only when its read-ahead showed none."""
        read = self._task_read
        return read is None or read.row is not row or read.countersigning

    def open_rows(self, instance_id: int) -> list[TaskRow]:
        """Return the instance's open task rows, oldest first.

        None is read when the task read ahead was the instance's only open one and this command has
        closed it since: every save projects the tasks, so no other row can have opened meanwhile
        without changing the instance's version, which makes this command's save fail.
        """
        read = self._task_read
        alone = read is not None and read.row.instance_id == instance_id and read.open_tasks == 1
        if alone and read.row.state != "open":
            return []
        return open_rows(self.db, instance_id)

    def load(self, instance_id: int) -> tuple[InstanceRecord, BpmnWorkflow]:
        """Load an instance row (unless read ahead with its task) and restore its workflow."""
        read = self._task_read
        if read is not None and read.instance.id == instance_id and read.state is not None:
            loaded = read.instance, read.state
            self._task_read = replace(read, state=None)  # used once: a second load reads the row again
        else:
            loaded = load_instance(self.db, instance_id)
        if loaded is None:
            raise InvalidCommand("no_instance", instance_id=instance_id)
        instance, state = loaded
        self.loaded_instance_id = instance_id
        parsed = specs_for(self.rt, self.session_on_demand, instance.definition_id)
        workflow = load_workflow(state, parsed.spec, parsed.subprocess_specs, self.script_engine())
        return instance, workflow

    def save(self, instance: InstanceRecord, workflow: BpmnWorkflow) -> None:
        """Project the tasks, sync the timers and write the state, all in this transaction."""
        self._note_completion(instance, workflow)
        project_tasks(self, instance, workflow)
        sync_timer_jobs(self, instance, workflow)
        save_state(self.db, instance, workflow, self.now)

    def save_new(self, instance: InstanceRecord, workflow: BpmnWorkflow) -> None:
        """Insert a new instance with its state, then project its tasks and timers; sets `instance.id`."""
        self._note_completion(instance, workflow)
        # a new instance has no task or timer rows yet, so projecting it never changes the workflow
        insert_instance(self.db, instance, workflow, self.now)
        project_tasks(self, instance, workflow, new=True)
        sync_timer_jobs(self, instance, workflow, new=True)

    def _note_completion(self, instance: InstanceRecord, workflow: BpmnWorkflow) -> None:
        if workflow.completed and instance.status == "running":
            instance.status = "completed"
            instance.ended_at = self.now

    def audit(self, instance_id: int, action: str, task: TaskRow | None = None, opinion: str = "", **details):
        """Append one audit event."""
        self.db.run(
            _INSERT_AUDIT,
            {
                "instance_id": instance_id,
                "human_task_id": task.id if task else None,
                "task_name": task.name if task else None,
                "action": action,
                "actor_id": self.actor.id if self.actor else None,
                "actor_name": self.actor_name,
                "opinion": opinion or "",
                "details": details,
                "created_at": self.now,
            },
        )

    def notify(self, recipients, kind: str, title: str, body: str = "", instance_id=None, task_id=None):
        """Put a notice in the notice centre of each recipient principal."""
        rows = [
            {
                "recipient": recipient,
                "kind": kind,
                "title": title,
                "body": body,
                "instance_id": instance_id,
                "task_id": task_id,
                "created_at": self.now,
            }
            for recipient in dict.fromkeys(recipients)
        ]
        self.db.run_many(_INSERT_NOTICE, rows)

    def call_operation(self, task, name: str, params: dict) -> dict | None:
        """Run a service task: the engine's own remind/escalate, or a registered handler."""
        if name in ("remind", "escalate"):
            attached = attached_user_task(task)
            if attached is None:
                raise InvalidCommand("rung_not_on_timer", operation=name)
            return self._escalation_rung(name, attached, params)
        handler = self.rt.operations.get(name)
        if handler is None:
            raise InvalidCommand("unknown_operation", operation=name)
        self.operation_step = task.task_spec.bpmn_name or task.task_spec.bpmn_id
        result = handler(self.session, dict(task.data), now=self.now, **params)
        self.operation_step = None
        return result

    def _escalation_rung(self, name: str, attached, params: dict) -> dict:
        if name == "escalate":
            level = attached._get_internal_data("escalation_level", 0) + int(params.get("levels", 1))
            attached._set_internal_data(escalation_level=level)
            return {"escalated_to_level": level}
        reminders = attached._get_internal_data("reminders", 0) + 1
        attached._set_internal_data(reminders=reminders, remind_pending=True)
        return {"reminders": reminders}


class SessionOnDemand:
    """Forwards to a command's ORM session, made on the first attribute a callee uses; most never do."""

    __slots__ = ("_db",)

    def __init__(self, db: Database):
        self._db = db

    def __getattr__(self, name: str):
        return getattr(self._db.session, name)


def attached_user_task(task):
    """Return the user task a boundary event's branch belongs to, walking up from a task in the branch."""
    current = task.parent
    while current is not None:
        spec_name = type(current.task_spec).__name__
        if spec_name == "BoundaryEventSplit":
            for child in current.children:
                if isinstance(child.task_spec, UserTaskMixin):
                    return child
            return None
        current = current.parent
    return None
