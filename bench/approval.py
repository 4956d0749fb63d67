"""The benchmark's approval flow (start, review, approve, end), run raw and through CE Flow's runtime."""

from dataclasses import dataclass

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select

from bench.common import Measurement
from domain.accounts.users import Actor
from engine.runtime import Runtime
from engine.runtime import transaction
from engine.runtime.models import DONE
from engine.runtime.models import OPEN
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.runtime.statements import Prepared
from engine.runtime.store import dump_workflow
from engine.runtime.store import load_workflow
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance

PROCESS_KEY = "bench_approval"
SOURCE_NAME = "bench_approval.bpmn"
FORM_KEY = "review"
CANDIDATE_RULE = "reviewers"
GROUP = "g:x"
ACTOR = Actor(id=1, name="bench", principals=("u:1", GROUP))
START_DATA = {"subject": "bench"}
OPINION = "ok"
APPROVALS = 2

DIAGRAM = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_bench" targetNamespace="http://ceflow.example/bpmn">
  <bpmn:process id="{PROCESS_KEY}" name="Benchmark approval" isExecutable="true">
    <bpmn:laneSet id="LaneSet_bench">
      <bpmn:lane id="Lane_reviewers" name="{CANDIDATE_RULE}">
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="{FORM_KEY}" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="approve" name="Approve">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="{FORM_KEY}" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="approve" />
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def one_group(_session, _data: dict, _level: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Candidate rule of the benchmark lane: always the one group."""
    return (GROUP,), ()


class RawFlow:
    """Plain SpiffWorkflow: the same steps and state round trips as the runtime, without a database."""

    def __init__(self):
        parser = SpiffBpmnParser()
        parser.add_bpmn_str(DIAGRAM, filename=SOURCE_NAME)
        self.spec = parser.get_spec(PROCESS_KEY)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS_KEY)
        self.script_engine = PythonScriptEngine()
        # what start_instance and complete_task put into task data
        self.start_values = {**START_DATA, "initiator_id": ACTOR.id, "initiator_name": ACTOR.name}
        self.start_values["region_code"] = ACTOR.region_code
        self.answer = {"decision": "approve", "last_opinion": OPINION}

    def run_instance(self, measurement: Measurement) -> None:
        """Start, then work each READY manual task; serialize and restore the state after every step."""
        with measurement.step("start"):
            workflow = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(self.start_values)
            workflow.do_engine_steps()
            workflow = self._round_trip(workflow)
        while ready := workflow.get_tasks(state=TaskState.READY, manual=True):
            with measurement.step("complete"):
                task = ready[0]
                task.data.update(self.answer)
                task.run()
                workflow.do_engine_steps()
                workflow = self._round_trip(workflow)
        if not workflow.completed:
            raise RuntimeError("the raw workflow did not reach its end event")
        measurement.instances += 1

    def _round_trip(self, workflow: BpmnWorkflow) -> BpmnWorkflow:
        """Serialize the state as the runtime saves it, and restore it as the next command loads it."""
        state = dump_workflow(workflow)
        return load_workflow(state, self.spec, self.subprocess_specs, self.script_engine)


def run_runtime_instance(rt: Runtime, measurement: Measurement) -> None:
    """Start an instance through CE Flow, then find and complete its open task until it ends."""
    with measurement.step("start"):
        instance_id = start_instance(rt, PROCESS_KEY, ACTOR, dict(START_DATA))
    for _ in range(APPROVALS):
        with measurement.step("inbox"):
            task_id = open_task_id(rt, instance_id)
        with measurement.step("complete"):
            complete_task(rt, ACTOR, task_id, {}, OPINION)
    measurement.instances += 1


_TASKS = HumanTask.__table__
_OPEN_TASK = Prepared(
    select(_TASKS.c.id).where(_TASKS.c.instance_id == bindparam("instance_id"), _TASKS.c.state == OPEN)
)


def open_task_id(rt: Runtime, instance_id: int) -> int:
    """Return the one open inbox row of an instance: one SELECT in a read transaction of the runtime.

    Not an engine command, and raw SpiffWorkflow has no such step: it runs the engine's own read
    path (the statement the bare-driver ceiling issues too), not a page's ORM query.
    """
    with transaction(rt, write=False) as db:
        found = db.all(_OPEN_TASK, {"instance_id": instance_id})
    if len(found) != 1:
        raise RuntimeError(f"instance {instance_id} has {len(found)} open tasks, expected one")
    return found[0][0]


@dataclass(frozen=True)
class DecisionCount:
    """What the database holds after a run: instances, and those without exactly their decisions."""

    instances: int
    expected_instances: int
    decisions: int
    wrong: tuple[tuple[int, str, int, int], ...]  # (instance, status, approval audits, done tasks)

    @property
    def exact(self) -> bool:
        """Say whether every instance ended with exactly its approvals: none lost, none doubled."""
        return self.instances == self.expected_instances and not self.wrong

    def describe(self) -> str:
        """Return the check as one line for the report."""
        verdict = "ok" if self.exact else "WRONG"
        line = (
            f"decisions counted after the run: {self.instances} instances (expected "
            f"{self.expected_instances}), {self.decisions} approvals; every instance completed with "
            f"exactly {APPROVALS} approval audit rows and {APPROVALS} done tasks: {verdict}"
        )
        if self.wrong:
            line += f"; {len(self.wrong)} wrong, e.g. (instance, status, audits, done tasks) {self.wrong[:5]}"
        return line


def count_decisions(rt: Runtime, expected_instances: int) -> DecisionCount:
    """Count each instance's approval audit rows and done tasks in the database: none lost, none doubled."""
    instances = ProcessInstance.__table__
    audits = (
        select(AuditEvent.instance_id, func.count().label("n"))
        .where(AuditEvent.action == "approve")
        .group_by(AuditEvent.instance_id)
        .subquery()
    )
    done = (
        select(HumanTask.instance_id, func.count().label("n"))
        .where(HumanTask.state == DONE)
        .group_by(HumanTask.instance_id)
        .subquery()
    )
    query = (
        select(instances.c.id, instances.c.status, func.coalesce(audits.c.n, 0), func.coalesce(done.c.n, 0))
        .outerjoin(audits, audits.c.instance_id == instances.c.id)
        .outerjoin(done, done.c.instance_id == instances.c.id)
        .order_by(instances.c.id)
    )
    with rt.session_factory() as session:
        rows = [tuple(row) for row in session.execute(query)]
    wrong = tuple(row for row in rows if row[1] != "completed" or row[2] != APPROVALS or row[3] != APPROVALS)
    return DecisionCount(len(rows), expected_instances, sum(row[2] for row in rows), wrong)
