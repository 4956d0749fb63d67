"""Two approvers on one task: exactly one wins, the other is told who handled it."""

import threading

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.errors import TaskAlreadyHandled
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.engine_helpers import only_open_task


def race(*calls):
    """Run the calls at the same moment in threads; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as error:  # the loser's error is the point of the test
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvers_completing_one_task_exactly_one_wins(rt, actor, session_factory, attempt):
    applicant = actor("applicant")
    iid = start_instance(rt, "demo_approval", applicant, {"subject": "并发"})
    complete_task(rt, applicant, only_open_task(session_factory, iid).id, {"subject": "并发"})
    county = only_open_task(session_factory, iid)
    reviewer = actor("410422-reviewer")
    twin = reviewer.__class__(**{**reviewer.__dict__, "name": "同组审核员"})

    outcomes = race(
        lambda: complete_task(rt, reviewer, county.id, {}, "甲同意"),
        lambda: complete_task(rt, twin, county.id, {}, "乙同意"),
    )

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], TaskAlreadyHandled), errors[0]
    assert errors[0].code == "task_closed"
    with session_factory() as s:
        approvals = s.scalar(
            select(func.count()).where(AuditEvent.instance_id == iid, AuditEvent.action == "approve")
        )
        city = s.scalars(
            select(HumanTask).where(HumanTask.instance_id == iid, HumanTask.state == "open")
        ).all()
        done = s.get(HumanTask, county.id)
    assert approvals == 2  # the applicant's submission and exactly one county approval
    assert [t.spec_name for t in city] == ["city_approval"]
    assert done.state == "done" and done.completed_by_name in ("叶县reviewer", "同组审核员")
    assert errors[0].by == done.completed_by_name


def test_a_resubmitted_form_does_not_act_twice(rt, actor, session_factory):
    applicant = actor("applicant")
    iid = start_instance(rt, "demo_approval", applicant, {"subject": "重复提交"})
    task = only_open_task(session_factory, iid)
    complete_task(rt, applicant, task.id, {"subject": "重复提交"})
    with pytest.raises(TaskAlreadyHandled, match="张三"):
        complete_task(rt, applicant, task.id, {"subject": "重复提交"})
    assert only_open_task(session_factory, iid).spec_name == "county_review"
