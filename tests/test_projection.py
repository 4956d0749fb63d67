"""The inbox projection follows user tasks into subprocesses and across parallel branches."""

from SpiffWorkflow.util.task import TaskState

from engine.runtime.definitions import deploy
from engine.runtime.definitions import specs_for
from engine.runtime.projection import ready_user_tasks
from engine.runtime.store import load_workflow
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.engine_helpers import instance
from tests.engine_helpers import open_tasks


def _user_task(task_id: str, incoming: str, outgoing: str) -> str:
    return f"""<bpmn:userTask id="{task_id}" name="{task_id}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="review" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing>
    </bpmn:userTask>"""


NESTED_AND_PARALLEL = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="t">
  <bpmn:process id="nested_and_parallel" isExecutable="true">
    <bpmn:laneSet><bpmn:lane id="l" name="region_hrss_reviewer">
      <bpmn:flowNodeRef>inner</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>left</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>right</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="check" name="核查">
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
      <bpmn:startEvent id="inner_start"><bpmn:outgoing>i1</bpmn:outgoing></bpmn:startEvent>
      {_user_task("inner", "i1", "i2")}
      <bpmn:endEvent id="inner_end"><bpmn:incoming>i2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="i1" sourceRef="inner_start" targetRef="inner" />
      <bpmn:sequenceFlow id="i2" sourceRef="inner" targetRef="inner_end" />
    </bpmn:subProcess>
    <bpmn:parallelGateway id="split"><bpmn:incoming>b</bpmn:incoming>
      <bpmn:outgoing>c</bpmn:outgoing><bpmn:outgoing>d</bpmn:outgoing></bpmn:parallelGateway>
    {_user_task("left", "c", "e")}
    {_user_task("right", "d", "f")}
    <bpmn:parallelGateway id="join"><bpmn:incoming>e</bpmn:incoming><bpmn:incoming>f</bpmn:incoming>
      <bpmn:outgoing>g</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>g</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="b" sourceRef="check" targetRef="split" />
    <bpmn:sequenceFlow id="c" sourceRef="split" targetRef="left" />
    <bpmn:sequenceFlow id="d" sourceRef="split" targetRef="right" />
    <bpmn:sequenceFlow id="e" sourceRef="left" targetRef="join" />
    <bpmn:sequenceFlow id="f" sourceRef="right" targetRef="join" />
    <bpmn:sequenceFlow id="g" sourceRef="join" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def _open_steps(session_factory, iid) -> list[str]:
    return sorted(t.spec_name for t in open_tasks(session_factory, iid))


def _ready_in_state(rt, session_factory, iid) -> tuple[list[str], list[str]]:
    """Return the saved state's READY user tasks: by the projection's scan, by SpiffWorkflow's walk."""
    with session_factory() as session:
        row = instance(session_factory, iid)
        parsed = specs_for(rt, session, row.definition_id)
    workflow = load_workflow(row.state, parsed.spec, parsed.subprocess_specs, None)
    walked = workflow.get_tasks(state=TaskState.READY, manual=True)
    return sorted(t.task_spec.bpmn_id for t in ready_user_tasks(workflow)), sorted(
        t.task_spec.bpmn_id for t in walked
    )


def test_user_tasks_inside_a_subprocess_and_on_parallel_branches_are_projected(rt, actor, session_factory):
    deploy(rt, NESTED_AND_PARALLEL, "nested_and_parallel.bpmn", "test")
    applicant, reviewer = actor("applicant"), actor("410422-reviewer")
    iid = start_instance(rt, "nested_and_parallel", applicant, {"subject": "核查"})
    assert _open_steps(session_factory, iid) == ["inner"]
    assert _ready_in_state(rt, session_factory, iid) == (["inner"], ["inner"])

    # the subprocess's task was the only open one: the branches' two rows are inserted, nothing else
    complete_task(rt, reviewer, open_tasks(session_factory, iid)[0].id, {}, "核查无误")
    assert _open_steps(session_factory, iid) == ["left", "right"]
    assert _ready_in_state(rt, session_factory, iid) == (["left", "right"], ["left", "right"])

    left = next(t for t in open_tasks(session_factory, iid) if t.spec_name == "left")
    complete_task(rt, reviewer, left.id, {}, "同意")
    assert _open_steps(session_factory, iid) == ["right"]  # the other branch's row stays, once

    complete_task(rt, reviewer, open_tasks(session_factory, iid)[0].id, {}, "同意")
    assert open_tasks(session_factory, iid) == []
    assert instance(session_factory, iid).status == "completed"
