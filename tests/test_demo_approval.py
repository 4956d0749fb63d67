"""The demo approval runs end to end through the runtime: submit, county review, city approval."""

from datetime import datetime

import pytest

from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound
from engine.tasks.assignment import claim_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import reject_task
from engine.tasks.commands import return_task
from engine.tasks.commands import start_instance
from engine.tasks.commands import terminate_instance
from engine.tasks.commands import withdraw_instance
from engine.timers.sweep import sweep_timers
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task
from tests.engine_helpers import open_tasks
from tests.engine_helpers import timer_jobs


def submit(rt, actor, session_factory, subject="继续教育学时申报"):
    applicant = actor("applicant")
    iid = start_instance(rt, "demo_approval", applicant, {"subject": subject})
    task = only_open_task(session_factory, iid)
    assert task.spec_name == "submit" and task.assignee_id == applicant.id
    complete_task(rt, applicant, task.id, {"subject": subject, "description": "2025 年度"})
    return iid


def test_application_goes_to_county_then_city_then_ends(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    assert county.spec_name == "county_review"
    assert county.candidates == "g:hrss:410422:reviewer"
    assert county.due_at is not None
    complete_task(rt, actor("410422-reviewer"), county.id, {}, "材料齐全")
    city = only_open_task(session_factory, iid)
    assert city.spec_name == "city_approval" and city.candidates == "g:hrss:410400:approver"
    complete_task(rt, actor("410400-approver"), city.id, {}, "同意")
    assert instance(session_factory, iid).status == "completed"
    assert open_tasks(session_factory, iid) == []
    assert audit_actions(session_factory, iid) == ["start", "approve", "approve", "approve"]
    assert timer_jobs(session_factory, iid) == []


def test_other_county_cannot_see_or_act_on_the_task(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    with pytest.raises(TaskNotFound):
        complete_task(rt, actor("410423-reviewer"), county.id, {}, "越权")
    assert only_open_task(session_factory, iid).id == county.id


def test_claimed_task_cannot_be_taken_by_a_colleague(rt, actor, session_factory, world):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    claim_task(rt, actor("410422-reviewer"), county.id)
    colleague = actor("410422-reviewer")
    colleague = colleague.__class__(**{**colleague.__dict__, "id": world["410422-approver"], "name": "同事"})
    with pytest.raises(TaskHeldByOther, match="held_by_other\\(who='叶县reviewer'\\)"):
        complete_task(rt, colleague, county.id, {}, "抢办")


def test_return_sends_it_back_to_the_applicant_with_the_reason(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    with pytest.raises(InvalidCommand, match="opinion_required"):
        return_task(rt, actor("410422-reviewer"), county.id, "  ")
    assert return_task(rt, actor("410422-reviewer"), county.id, "请补充证明材料") == "submit"
    again = only_open_task(session_factory, iid)
    assert again.spec_name == "submit" and again.assignee_id == actor("applicant").id
    complete_task(rt, actor("applicant"), again.id, {"subject": "已补充"})
    assert only_open_task(session_factory, iid).spec_name == "county_review"
    assert audit_actions(session_factory, iid)[-2:] == ["return", "approve"]


def test_reject_ends_the_process(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reject_task(rt, actor("410422-reviewer"), county.id, "不符合条件")
    assert instance(session_factory, iid).status == "rejected"
    assert open_tasks(session_factory, iid) == []
    assert timer_jobs(session_factory, iid) == []


def test_applicant_can_withdraw_while_the_county_reviews_but_not_later(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    first = submit(rt, actor, session_factory, "第二份")
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, first).id, {}, "同意")
    with pytest.raises(NotAllowed):
        withdraw_instance(rt, actor("applicant"), first)
    withdraw_instance(rt, actor("applicant"), iid, "填错了")
    assert instance(session_factory, iid).status == "withdrawn"
    with pytest.raises(TaskNotFound):
        withdraw_instance(rt, actor("410422-reviewer"), first)


def test_only_an_admin_terminates(rt, actor, session_factory, admin):
    iid = submit(rt, actor, session_factory)
    with pytest.raises(NotAllowed):
        terminate_instance(rt, actor("410422-reviewer"), iid, "测试")
    terminate_instance(rt, admin, iid, "重复申请")
    assert instance(session_factory, iid).status == "terminated"


def test_reminder_after_three_working_days_and_escalation_after_five(rt, actor, session_factory, clock):
    iid = submit(rt, actor, session_factory)
    jobs = timer_jobs(session_factory, iid)
    assert [j.spec_name for j in jobs] == ["remind_timer", "escalate_timer"]
    # Monday 2025-11-03: three working days later is Thursday 11-06, end of day in Beijing
    assert jobs[0].due_at == datetime.fromisoformat("2025-11-06T23:59:59+08:00")
    assert jobs[1].due_at == datetime.fromisoformat("2025-11-10T23:59:59+08:00")
    assert sweep_timers(rt).fired == 0
    clock.now = jobs[0].due_at
    clock.advance(seconds=1)
    assert sweep_timers(rt).fired == 1
    assert only_open_task(session_factory, iid).candidates == "g:hrss:410422:reviewer"
    clock.now = jobs[1].due_at
    clock.advance(seconds=1)
    assert sweep_timers(rt).fired == 1
    escalated = only_open_task(session_factory, iid)
    assert escalated.candidates == "g:hrss:410400:reviewer" and escalated.escalation_level == 1
    assert sweep_timers(rt).fired == 0
    assert audit_actions(session_factory, iid).count("timer_fired") == 2
    assert "escalate" in audit_actions(session_factory, iid)
    complete_task(rt, actor("410400-reviewer"), escalated.id, {}, "市局代为审核")
    assert only_open_task(session_factory, iid).spec_name == "city_approval"
