"""Every bundled diagram runs its approval path with its state serialized and restored after each step."""

import json

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.context import CommandContext
from engine.diagrams import parse_diagram
from engine.store import dump_workflow
from engine.store import load_workflow
from tests.conftest import BPMN_DIR

DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))


def round_trip(workflow, parsed, ctx):
    """Serialize, restore and serialize again; the two serializations must be identical."""
    state = dump_workflow(workflow)
    restored = load_workflow(state, parsed.spec, parsed.subprocess_specs, ctx.script_engine())
    assert json.loads(dump_workflow(restored)) == json.loads(state)
    return restored


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_diagram_runs_to_its_end_with_a_round_trip_after_every_step(path, rt, world, session_factory):
    parsed = parse_diagram(path.read_bytes(), path.name)
    with session_factory() as session:
        ctx = CommandContext(rt, session, None)
        workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=ctx.script_engine())
        start = {"initiator_id": world["applicant"], "region_code": "410422", "subject": "路径测试"}
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(start)
        workflow.do_engine_steps()
        visited = []
        for _step in range(50):
            workflow = round_trip(workflow, parsed, ctx)
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            task = ready[0]
            visited.append(task.task_spec.bpmn_id)
            task.data.update({"decision": "approve", "subject": "路径测试"})
            task.run()
            workflow.do_engine_steps()
        workflow = round_trip(workflow, parsed, ctx)
        session.rollback()
    assert workflow.completed, f"stopped after {visited}"
    assert visited, "the path visited no user task"
