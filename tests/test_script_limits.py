"""Scripts that eat memory: every allocating operation is bounded, and a step that builds too much
fails as an incident, keeping the instance's last good state (hardening probe findings)."""

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import StepFailed
from engine.runtime.definitions import deploy
from engine.runtime.models import Incident
from engine.runtime.models import ProcessInstance
from engine.runtime.store import MAX_STATE_BYTES
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task
from tests.engine_helpers import review_then

SCRIPT = """<bpmn:scriptTask id="compute"><bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="b" sourceRef="review" targetRef="compute" />
    <bpmn:sequenceFlow id="c" sourceRef="compute" targetRef="end" />"""
CONDITION = """<bpmn:exclusiveGateway id="choose" default="d"><bpmn:incoming>b</bpmn:incoming>
      <bpmn:outgoing>c</bpmn:outgoing><bpmn:outgoing>d</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>c</bpmn:incoming><bpmn:incoming>d</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="b" sourceRef="review" targetRef="choose" />
    <bpmn:sequenceFlow id="c" sourceRef="choose" targetRef="end">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="d" sourceRef="choose" targetRef="end" />"""


def reviewed(rt, actor, session_factory, after: str):
    """Deploy a review followed by `after`, start it, and have the reviewer approve; return (id, before)."""
    deploy(rt, review_then("after_review", after), "after_review.bpmn", "test")
    iid = start_instance(rt, "after_review", actor("applicant"), {"subject": "x"})
    before = instance(session_factory, iid)
    with pytest.raises(StepFailed) as failed:
        complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "同意")
    return iid, before, failed.value


def assert_kept_last_good_state(session_factory, iid, before, failed, expected: str):
    after = instance(session_factory, iid)
    assert (after.version, after.state, after.status) == (before.version, before.state, "running")
    assert expected in failed.reason
    with session_factory() as s:
        [incident] = s.scalars(select(Incident).where(Incident.instance_id == iid)).all()
        largest = s.scalar(select(func.max(func.length(ProcessInstance.state))))
    assert expected in incident.message
    assert largest < MAX_STATE_BYTES


def test_a_condition_padding_a_huge_string_fails_before_building_it(rt, actor, session_factory):
    """Finding: `len('a'.ljust(2 * 10**9)) > 0` built 2 GB in 4.5 s and the instance completed."""
    condition = "len('a'.ljust(2 * 10**9)) &gt; 0"
    iid, before, failed = reviewed(rt, actor, session_factory, CONDITION.format(condition=condition))
    assert_kept_last_good_state(session_factory, iid, before, failed, "scripts may build at most")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # Finding: s.join([s]*1000) with a 1 MB s built 1 GB.
        ("s = 'a' * 10**6\nt = s.join([s] * 1000)", "scripts may build at most"),
        # Finding: x='a'.ljust(3*10**8) stored a process_instance.state row of about 600 MB.
        ("x = 'a'.ljust(3 * 10**8)", "scripts may build at most"),
        # Finding: '%0*d', f-string and format widths failed with a bare "MemoryError".
        ("x = '%0*d' % (10**9, 1)", "scripts may build at most"),
        ("x = f'{1:>{10**9}}'", "scripts may build at most"),
        # Many moderate values add up: the run's whole allocation is counted.
        ("x = len(['a' * 10**6 for i in range(1000)])", "scripts may build at most that much"),
        # What stays in the task data is capped inside the script's budget, before anything is saved.
        ("x = 'a' * 900000\ny = 'b' * 900000", "scripts may keep at most"),
    ],
)
def test_a_script_that_builds_too_much_fails_as_an_incident(rt, actor, session_factory, script, expected):
    iid, before, failed = reviewed(rt, actor, session_factory, SCRIPT.format(script=script))
    assert_kept_last_good_state(session_factory, iid, before, failed, expected)


def test_data_too_large_to_keep_is_refused_at_save_and_nothing_is_stored(rt, actor, session_factory):
    """Finding: the size of a workflow's data was not capped at save."""
    with session_factory() as s:
        instances_before = s.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(StepFailed, match="at most 1,000,000 are kept"):
        # start data is bounded before this (engine.tasks.start_data): grow it through the first step
        start_instance(
            rt, "demo_approval", actor("applicant"), {"subject": "x"}, submit={"notes": "长" * 400_000}
        )
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == instances_before
