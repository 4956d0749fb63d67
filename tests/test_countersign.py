"""Countersign (加签): an approver added before me hands the task back; one added after me decides last."""

import pytest
from sqlalchemy import select
from sqlalchemy import update

from domain.accounts.users import User
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound
from engine.runtime.models import TaskCountersign
from engine.tasks.assignment import claim_task
from engine.tasks.assignment import delegate_task
from engine.tasks.assignment import transfer_task
from engine.tasks.assignment import unclaim_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import reject_task
from engine.tasks.commands import return_task
from engine.tasks.countersign import countersign_task
from tests.engine_helpers import audit_actions
from tests.engine_helpers import audit_events
from tests.engine_helpers import instance
from tests.engine_helpers import notices
from tests.engine_helpers import only_open_task
from tests.test_concurrency import race
from tests.test_demo_approval import submit


def at_city(rt, actor, session_factory):
    """Bring the demo application to the city step and let the city approver claim it."""
    iid = submit(rt, actor, session_factory)
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "县级同意")
    city = only_open_task(session_factory, iid)
    assert city.spec_name == "city_approval"
    claim_task(rt, actor("410400-approver"), city.id)
    return iid, city


def countersigns(session_factory, task_id):
    with session_factory() as s:
        rows = s.scalars(select(TaskCountersign).where(TaskCountersign.human_task_id == task_id))
        return [(r.position, r.state, r.opinion) for r in rows.all()]


def test_an_approver_added_before_me_agrees_and_the_task_comes_back(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "before", "请先核对学时")
    task = only_open_task(session_factory, iid)
    assert task.assignee_id == colleague.id and task.owner_id is None
    assert [n.title for n in notices(session_factory, f"u:{colleague.id}")] == ["加签给您：市级人社局审批"]
    event = audit_events(session_factory, iid, "countersign")[-1]
    assert event.opinion == "请先核对学时"
    assert event.details == {"position": "before", "to_user_id": colleague.id, "to_name": colleague.name}

    complete_task(rt, colleague, city.id, {}, "学时无误，同意")
    task = only_open_task(session_factory, iid)
    assert (task.spec_name, task.assignee_id) == ("city_approval", approver.id)
    assert countersigns(session_factory, city.id) == [("before", "done", "学时无误，同意")]
    assert audit_events(session_factory, iid, "countersign_approve")[-1].opinion == "学时无误，同意"
    assert notices(session_factory, f"u:{approver.id}")[-1].title == "加签已处理：市级人社局审批"

    complete_task(rt, approver, city.id, {}, "同意")
    assert instance(session_factory, iid).status == "completed"
    assert audit_actions(session_factory, iid)[-4:] == [
        "claim",
        "countersign",
        "countersign_approve",
        "approve",
    ]


def test_an_approver_added_before_me_may_only_agree(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "before", "请先核对")
    with pytest.raises(NotAllowed):
        return_task(rt, colleague, city.id, "退回")
    with pytest.raises(NotAllowed):
        reject_task(rt, colleague, city.id, "不同意")
    with pytest.raises(NotAllowed):
        transfer_task(rt, colleague, city.id, approver.id)
    with pytest.raises(NotAllowed):
        delegate_task(rt, colleague, city.id, approver.id)
    with pytest.raises(NotAllowed):
        unclaim_task(rt, colleague, city.id)
    with pytest.raises(TaskHeldByOther):
        complete_task(rt, approver, city.id, {}, "我先办了")
    assert only_open_task(session_factory, iid).assignee_id == colleague.id


def test_an_approver_added_after_me_decides_the_step(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "after", "请您最后把关")
    assert only_open_task(session_factory, iid).assignee_id == approver.id
    assert countersigns(session_factory, city.id) == [("after", "pending", "")]

    complete_task(rt, approver, city.id, {}, "我同意")
    task = only_open_task(session_factory, iid)
    assert (task.spec_name, task.state, task.assignee_id) == ("city_approval", "open", colleague.id)
    assert audit_events(session_factory, iid, "approve")[-1].opinion == "我同意"
    assert notices(session_factory, f"u:{colleague.id}")[-1].title == "轮到您加签审批：市级人社局审批"

    complete_task(rt, colleague, city.id, {}, "同意")
    assert instance(session_factory, iid).status == "completed"
    assert countersigns(session_factory, city.id) == [("after", "done", "同意")]
    assert audit_actions(session_factory, iid)[-5:] == [
        "claim",
        "countersign",
        "approve",
        "countersign_approve",
        "approve",
    ]


def test_several_approvers_added_after_me_approve_in_turn(rt, actor, session_factory, world):
    iid, city = at_city(rt, actor, session_factory)
    approver, first, second = actor("410400-approver"), actor("410400-reviewer"), actor("410422-reviewer")
    countersign_task(rt, approver, city.id, first.id, "after", "请复核")
    with session_factory() as s, s.begin():  # the county reviewer joins the city queue, so is a candidate
        s.execute(update(User).where(User.id == second.id).values(organisation_id=first.organisation_id))
    countersign_task(rt, approver, city.id, second.id, "after", "也请您复核")
    complete_task(rt, approver, city.id, {}, "同意")
    complete_task(rt, first, city.id, {}, "复核同意")
    assert only_open_task(session_factory, iid).assignee_id == second.id
    complete_task(rt, second, city.id, {}, "同意")
    assert instance(session_factory, iid).status == "completed"


def test_an_approver_added_after_me_may_return_and_the_countersigns_close(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "after", "请把关")
    complete_task(rt, approver, city.id, {}, "同意")
    return_task(rt, colleague, city.id, "材料不全，请补充")
    assert only_open_task(session_factory, iid).spec_name == "submit"
    assert countersigns(session_factory, city.id) == [("after", "cancelled", "")]


def test_an_approver_added_after_me_may_reject(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "after", "请把关")
    complete_task(rt, approver, city.id, {}, "同意")
    reject_task(rt, colleague, city.id, "不符合条件")
    assert instance(session_factory, iid).status == "rejected"


def test_the_holder_returning_cancels_pending_countersigns(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "after", "请把关")
    return_task(rt, approver, city.id, "请补充")
    assert countersigns(session_factory, city.id) == [("after", "cancelled", "")]


def test_countersign_refusals(rt, actor, session_factory, world):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    with pytest.raises(InvalidCommand, match="countersign_self"):
        countersign_task(rt, approver, city.id, approver.id, "before", "加签")
    with pytest.raises(InvalidCommand, match="no_active_user"):
        countersign_task(rt, approver, city.id, 999999, "before", "加签")
    with pytest.raises(InvalidCommand, match="countersign_stranger"):
        countersign_task(rt, approver, city.id, world["410423-reviewer"], "before", "加签")
    with pytest.raises(InvalidCommand, match="opinion_required"):
        countersign_task(rt, approver, city.id, colleague.id, "before", "  ")
    with pytest.raises(InvalidCommand):
        countersign_task(rt, approver, city.id, colleague.id, "beside", "加签")
    countersign_task(rt, approver, city.id, colleague.id, "after", "加签")
    with pytest.raises(InvalidCommand, match="countersign_pending"):
        countersign_task(rt, approver, city.id, colleague.id, "before", "再加签")
    with session_factory() as s, s.begin():
        s.execute(update(User).where(User.id == colleague.id).values(active=False))
    with pytest.raises(InvalidCommand, match="no_active_user"):
        countersign_task(rt, approver, city.id, colleague.id, "before", "加签")
    with pytest.raises(TaskNotFound):
        countersign_task(rt, actor("410423-reviewer"), city.id, colleague.id, "before", "加签")
    assert countersigns(session_factory, city.id) == [("after", "pending", "")]


def test_only_the_holder_may_countersign_and_only_where_the_step_allows(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer, colleague = actor("410422-reviewer"), actor("410422-approver")
    claim_task(rt, reviewer, county.id)
    with pytest.raises(NotAllowed, match="step_disallows\\(action='countersign'\\)"):
        countersign_task(rt, reviewer, county.id, colleague.id, "before", "加签")
    complete_task(rt, reviewer, county.id, {}, "同意")
    city = only_open_task(session_factory, iid)
    approver = actor("410400-approver")
    with pytest.raises(NotAllowed, match="claim_first"):
        countersign_task(rt, approver, city.id, actor("410400-reviewer").id, "before", "加签")
    claim_task(rt, approver, city.id)
    twin = approver.__class__(**{**approver.__dict__, "id": actor("410400-reviewer").id})
    with pytest.raises(TaskHeldByOther):
        countersign_task(rt, twin, city.id, approver.id, "before", "加签")


def test_a_double_submitted_countersign_approval_counts_once(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "after", "请把关")
    complete_task(rt, approver, city.id, {}, "同意")
    outcomes = race(
        lambda: complete_task(rt, colleague, city.id, {}, "同意一"),
        lambda: complete_task(rt, colleague, city.id, {}, "同意二"),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], TaskAlreadyHandled), outcomes
    assert instance(session_factory, iid).status == "completed"
    assert audit_actions(session_factory, iid).count("countersign_approve") == 1


def test_a_double_submitted_countersign_request_adds_one_approver(rt, actor, session_factory):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    outcomes = race(
        lambda: countersign_task(rt, approver, city.id, colleague.id, "after", "请把关"),
        lambda: countersign_task(rt, approver, city.id, colleague.id, "after", "请把关"),
    )
    assert len([o for o in outcomes if isinstance(o, Exception)]) == 1, outcomes
    assert countersigns(session_factory, city.id) == [("after", "pending", "")]


def test_terminating_the_process_closes_its_open_countersigns(rt, actor, session_factory, admin):
    from engine.tasks.commands import terminate_instance

    iid, city = at_city(rt, actor, session_factory)
    countersign_task(rt, actor("410400-approver"), city.id, actor("410400-reviewer").id, "after", "请复核")
    terminate_instance(rt, admin, iid, "申请重复，终止")
    assert instance(session_factory, iid).status == "terminated"
    assert countersigns(session_factory, city.id) == [("after", "cancelled", "")]
