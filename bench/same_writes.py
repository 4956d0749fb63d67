"""Raw SpiffWorkflow plus the runtime's own SQL through the bare DB-API driver: no SQLAlchemy, no ORM.

This is the ceiling for "one committed transaction per command": the same workflow steps and state
round trips as RawFlow, and the same statements, rows and commits as the runtime issues for the
benchmark's process (start: 4 writes and a definition lookup; complete: 1 read, 6 writes), plus the
same inbox lookup between commands. What the runtime spends beyond it is SQLAlchemy and our code.
"""

import json
from datetime import UTC
from datetime import datetime

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bench.approval import ACTOR
from bench.approval import GROUP
from bench.approval import OPINION
from bench.approval import PROCESS_KEY
from bench.approval import RawFlow
from bench.common import Measurement
from engine.runtime.store import dump_workflow
from engine.runtime.store import load_workflow

NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)
TASK_INSERT = (
    "INSERT INTO human_task (task_uuid, instance_id, process_key, spec_name, name, form_key, candidate_rule,"
    " candidates, allowed_actions, state, subject, priority, escalation_level, created_at, due_sort)"
    " VALUES (?, ?, ?, ?, ?, 'review', 'reviewers', ?, 'approve', 'open', 'bench', 50, 0, ?, ?) RETURNING id"
)
QUEUE_INSERT = (  # the task's creation time and priority come along for the queue's sort orders
    "INSERT INTO human_task_candidate (human_task_id, principal, due_sort, created_at, priority)"
    " SELECT id, ?, ?, created_at, priority FROM human_task WHERE id = ?"
)
AUDIT_INSERT = (
    "INSERT INTO audit_event (instance_id, human_task_id, task_name, action, actor_id, actor_name, opinion,"
    " details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SameWritesFlow(RawFlow):
    """RawFlow, with each step in its own committed transaction writing what the runtime writes."""

    def __init__(self, dbapi_connection, dialect: str):
        super().__init__()
        self.conn = dbapi_connection
        self.sqlite = dialect == "sqlite"
        self.definition_id = 1

    def sql(self, text: str, params=()):
        """Run one statement, in the driver's parameter style."""
        return self.conn.execute(text if self.sqlite else text.replace("?", "%s"), params)

    def when(self, value: datetime):
        """Pass a time as SQLAlchemy stores it on SQLite (text), or as itself on PostgreSQL."""
        return value.replace(tzinfo=None).isoformat(" ") if self.sqlite else value

    def begin(self) -> None:
        """Start a write transaction as the runtime does (BEGIN IMMEDIATE on SQLite)."""
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")

    def run_instance(self, measurement: Measurement) -> None:
        """Start, then find and complete the open task until the process ends, as the runtime loop does."""
        with measurement.step("start"):
            instance_id = self.start()
        while True:
            with measurement.step("inbox"):
                task_id = self.open_task(instance_id)
            if task_id is None:
                break
            with measurement.step("complete"):
                self.complete(task_id)
        measurement.instances += 1

    def start(self) -> int:
        """Start an instance: look up the definition, run to the first task, write it all, commit."""
        now = datetime.now(UTC)
        self.begin()
        self.sql(
            "SELECT id, name FROM process_definition WHERE process_key = ? ORDER BY version DESC LIMIT 1",
            (PROCESS_KEY,),
        )
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(self.start_values)
        workflow.do_engine_steps()
        instance_id = self.sql(
            "INSERT INTO process_instance (definition_id, process_key, initiator_id, subject, status, state,"
            " version, created_at, updated_at) VALUES (?, ?, ?, 'bench', 'running', ?, 1, ?, ?) RETURNING id",
            (
                self.definition_id,
                PROCESS_KEY,
                ACTOR.id,
                dump_workflow(workflow),
                self.when(now),
                self.when(now),
            ),
        ).fetchone()[0]
        self.project(instance_id, workflow, now)
        self.audit(instance_id, None, None, "start", now)
        self.conn.commit()
        return instance_id

    def open_task(self, instance_id: int) -> int | None:
        """Return the instance's open task id, as the runtime loop's inbox lookup does."""
        found = self.sql("SELECT id FROM human_task WHERE instance_id = ? AND state = 'open'", (instance_id,))
        row = found.fetchone()
        self.conn.rollback()
        return row[0] if row else None

    def complete(self, task_id: int) -> None:
        """Complete a task: read it with its instance, write as complete_task does, commit."""
        now = datetime.now(UTC)
        self.begin()
        task_uuid, name, instance_id, version, state, open_tasks, countersigning = self.sql(
            "SELECT t.task_uuid, t.name, t.instance_id, i.version, i.state,"
            " (SELECT count(*) FROM human_task s WHERE s.instance_id = t.instance_id AND s.state = 'open'),"
            " EXISTS (SELECT 1 FROM task_countersign c WHERE c.human_task_id = t.id"
            " AND c.open_user_id IS NOT NULL)"
            " FROM human_task t JOIN process_instance i ON t.instance_id = i.id WHERE t.id = ?",
            (task_id,),
        ).fetchone()
        workflow = load_workflow(state, self.spec, self.subprocess_specs, self.script_engine)
        task = next(
            t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task_uuid
        )
        task.data.update(self.answer)
        if countersigning:  # never in this flow: the read above says so, and complete_task skips the query
            raise RuntimeError("the benchmark's tasks have no countersigns")
        self.sql(
            "UPDATE human_task SET state = 'done', outcome = 'approve', completed_at = ?,"
            " completed_by_id = ?, completed_by_name = ?, assignee_id = ? WHERE id = ? AND state = 'open'",
            (self.when(now), ACTOR.id, ACTOR.name, ACTOR.id, task_id),
        )
        self.sql("DELETE FROM human_task_candidate WHERE human_task_id = ?", (task_id,))
        task.run()
        workflow.do_engine_steps()
        self.audit(instance_id, task_id, name, "approve", now)
        if open_tasks != 1:  # the task closed above was the instance's only open one: nothing to reconcile
            raise RuntimeError("the benchmark's instances have one open task at a time")
        self.project(instance_id, workflow, now)
        status = "completed" if workflow.completed else "running"
        self.sql(
            "UPDATE process_instance SET status = ?, state = ?, version = ?, updated_at = ?, ended_at = ?"
            " WHERE id = ? AND version = ?",
            (status, dump_workflow(workflow), version + 1, self.when(now), None, instance_id, version),
        )
        self.conn.commit()

    def project(self, instance_id: int, workflow, now: datetime) -> None:
        """Insert the inbox rows of the READY user tasks and their queue rows."""
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            values = (str(task.id), instance_id, PROCESS_KEY, spec.bpmn_id, spec.bpmn_name, GROUP)
            times = (self.when(now), self.when(NO_DUE_DATE))
            row_id = self.sql(TASK_INSERT, values + times).fetchone()[0]
            self.sql(QUEUE_INSERT, (GROUP, self.when(NO_DUE_DATE), row_id))

    def audit(self, instance_id: int, task_id, task_name, action: str, now: datetime) -> None:
        """Append one audit row."""
        opinion = OPINION if task_id else ""
        values = (instance_id, task_id, task_name, action, ACTOR.id, ACTOR.name, opinion, json.dumps({}))
        self.sql(AUDIT_INSERT, values + (self.when(now),))
