"""Transfer, delegate, claim and release; a failing step becomes an incident and loses nothing."""

from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy import update

from domain.accounts.users import User
from domain.notices.records import Notice
from engine.errors import NotAColleague
from engine.errors import NotAllowed
from engine.errors import StepFailed
from engine.errors import TaskHeldByOther
from engine.runtime.definitions import deploy
from engine.runtime.models import Incident
from engine.tasks.assignment import claim_task
from engine.tasks.assignment import delegate_task
from engine.tasks.assignment import transfer_task
from engine.tasks.assignment import unclaim_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task
from tests.engine_helpers import review_then
from tests.test_demo_approval import submit

FAILS_AFTER_REVIEW = review_then(
    "fails_after_review",
    """<bpmn:scriptTask id="compute" name="计算">
      <bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing>
      <bpmn:script>ratio = hours / planned_hours</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="b" sourceRef="review" targetRef="compute" />
    <bpmn:sequenceFlow id="c" sourceRef="compute" targetRef="end" />""",
)


def test_transfer_hands_the_task_to_another_approver_for_good(rt, actor, session_factory, world):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer, colleague = actor("410422-reviewer"), actor("410422-approver")
    claim_task(rt, reviewer, county.id)
    transfer_task(rt, reviewer, county.id, colleague.id, "请你办理")
    assert only_open_task(session_factory, iid).assignee_id == colleague.id
    with pytest.raises(TaskHeldByOther):
        complete_task(rt, reviewer, county.id, {}, "我还想办")
    complete_task(rt, colleague, county.id, {}, "已办")
    assert only_open_task(session_factory, iid).spec_name == "city_approval"
    with session_factory() as s:
        notices = s.scalars(select(Notice.title).where(Notice.recipient == f"u:{colleague.id}")).all()
    assert notices == ["转办给您：县级人社局审核"]


def test_delegated_task_comes_back_to_the_delegator(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer, helper = actor("410422-reviewer"), actor("410422-approver")
    claim_task(rt, reviewer, county.id)
    delegate_task(rt, reviewer, county.id, helper.id, "请先核对学时")
    with pytest.raises(NotAllowed) as refused:  # the delegate hands back; the owner decides
        delegate_task(rt, helper, county.id, reviewer.id)
    assert refused.value.code == "delegate_hands_back"
    complete_task(rt, helper, county.id, {}, "学时核对无误")
    back = only_open_task(session_factory, iid)
    assert back.spec_name == "county_review" and back.assignee_id == reviewer.id and back.owner_id is None
    complete_task(rt, reviewer, county.id, {}, "同意")
    assert only_open_task(session_factory, iid).spec_name == "city_approval"
    assert audit_actions(session_factory, iid)[-4:] == ["claim", "delegate", "resolve", "approve"]


@pytest.mark.parametrize("command", [transfer_task, delegate_task], ids=["transfer", "delegate"])
@pytest.mark.parametrize("target", ["another organisation", "inactive colleague"])
def test_a_task_is_handed_only_to_an_active_colleague(rt, actor, session_factory, command, target):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer = actor("410422-reviewer")
    claim_task(rt, reviewer, county.id)
    to = actor("410400-reviewer") if target == "another organisation" else actor("410422-approver")
    if target == "inactive colleague":
        with session_factory() as s, s.begin():
            s.execute(update(User).where(User.id == to.id).values(active=False))
    events = audit_actions(session_factory, iid)
    with pytest.raises(NotAColleague, match="not_a_colleague"):
        command(rt, reviewer, county.id, to.id, "请你办理")
    row = only_open_task(session_factory, iid)
    assert (row.id, row.assignee_id, row.owner_id) == (county.id, reviewer.id, None)
    assert audit_actions(session_factory, iid) == events
    with session_factory() as s:
        assert s.scalars(select(Notice.id).where(Notice.recipient == f"u:{to.id}")).all() == []


def test_release_puts_a_claimed_task_back_in_the_queue(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer = actor("410422-reviewer")
    claim_task(rt, reviewer, county.id)
    same_group = reviewer.__class__(**{**reviewer.__dict__, "id": 999, "name": "同组审核员"})
    with pytest.raises(NotAllowed):
        unclaim_task(rt, same_group, county.id)
    unclaim_task(rt, reviewer, county.id)
    assert only_open_task(session_factory, iid).assignee_id is None


def test_applicants_own_step_cannot_be_released_to_a_queue(rt, actor, session_factory):
    applicant = actor("applicant")
    iid = start_instance(rt, "demo_approval", applicant, {"subject": "x"})
    with pytest.raises(NotAllowed):
        unclaim_task(rt, applicant, only_open_task(session_factory, iid).id)


def test_a_failing_step_rolls_back_and_leaves_an_incident(rt, actor, session_factory):
    deploy(rt, FAILS_AFTER_REVIEW, "fails_after_review.bpmn", "test")
    applicant = actor("applicant")
    iid = start_instance(rt, "fails_after_review", applicant, {"hours": 10, "planned_hours": 0})
    task = only_open_task(session_factory, iid)
    before = instance(session_factory, iid)
    with pytest.raises(StepFailed, match="division by zero"):
        complete_task(rt, actor("410422-reviewer"), task.id, {}, "同意")
    after = instance(session_factory, iid)
    assert (after.version, after.state, after.status) == (before.version, before.state, "running")
    assert only_open_task(session_factory, iid).id == task.id
    assert audit_actions(session_factory, iid) == ["start"]
    with session_factory() as s:
        [incident] = s.scalars(select(Incident).where(Incident.instance_id == iid)).all()
    assert incident.command == "complete" and "division by zero" in incident.message
    assert (incident.step, incident.tries, incident.state) == ("计算", 1, "open")


def test_a_process_whose_first_steps_fail_is_not_started(rt, actor, session_factory):
    deploy(rt, FAILS_AFTER_REVIEW, "fails_after_review.bpmn", "test")
    with pytest.raises(StepFailed, match="region"):
        start_instance(rt, "fails_after_review", None, {})  # no region_code: no candidates
    with session_factory() as s:
        assert s.scalars(select(Incident)).all() == []


def test_a_deadline_in_a_year_without_a_holiday_schedule_counts_weekends_only(
    rt, actor, session_factory, clock
):
    clock.now = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)  # Wednesday; 2027 has no schedule yet
    iid = submit(rt, actor, session_factory)
    due = only_open_task(session_factory, iid).due_at
    assert due == datetime.fromisoformat("2027-01-06T23:59:59+08:00")
