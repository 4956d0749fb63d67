"""Urge (催办) once a day per task, and the administrator's reassign (改派)."""

import pytest
from sqlalchemy import select

from domain.accounts.users import Actor
from domain.accounts.users import User
from engine.errors import AlreadyUrgedToday
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskNotFound
from engine.runtime.models import TaskUrge
from engine.tasks.assignment import claim_task
from engine.tasks.assignment import reassign_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import return_task
from engine.tasks.countersign import countersign_task
from engine.tasks.urge import urge_task
from tests.engine_helpers import audit_actions
from tests.engine_helpers import audit_events
from tests.engine_helpers import notices
from tests.engine_helpers import only_open_task
from tests.test_concurrency import race
from tests.test_countersign import at_city
from tests.test_demo_approval import submit

# --- urge --------------------------------------------------------------------------------


def test_the_applicant_urges_a_queued_step_and_its_queue_is_told(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    urge_task(rt, actor("applicant"), county.id, "请尽快审核")
    assert [(n.recipient, n.title) for n in notices(session_factory, kind="urge")] == [
        ("g:hrss:410422:reviewer", "张三催办：县级人社局审核")
    ]
    [urged] = audit_events(session_factory, iid, "urge")
    assert urged.opinion == "请尽快审核" and urged.details == {"recipients": ["g:hrss:410422:reviewer"]}


def test_a_claimed_step_is_urged_to_its_holder_alone(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer = actor("410422-reviewer")
    claim_task(rt, reviewer, county.id)
    urge_task(rt, actor("applicant"), county.id)
    assert [(n.recipient, n.title) for n in notices(session_factory, kind="urge")] == [
        (f"u:{reviewer.id}", "张三催办：县级人社局审核")
    ]


def test_urge_is_once_a_day_per_task_by_the_china_date(rt, actor, session_factory, clock):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    applicant = actor("applicant")
    urge_task(rt, applicant, county.id)  # 09:00 in Beijing
    with pytest.raises(AlreadyUrgedToday, match="already_urged_today"):
        urge_task(rt, applicant, county.id)
    clock.advance(hours=14, minutes=59)  # 23:59 in Beijing, still the same day
    with pytest.raises(AlreadyUrgedToday):
        urge_task(rt, applicant, county.id)
    clock.advance(minutes=1)  # midnight in Beijing (16:00 UTC): a new day
    urge_task(rt, applicant, county.id)
    assert audit_actions(session_factory, iid).count("urge") == 2
    with session_factory() as s:
        days = [str(d) for d in s.scalars(select(TaskUrge.day).order_by(TaskUrge.id))]
    assert days == ["2025-11-03", "2025-11-04"]


def test_two_urges_at_the_same_moment_send_one_notice(rt, actor, session_factory, world):
    iid = submit(rt, actor, session_factory)
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "同意")
    city = only_open_task(session_factory, iid)
    outcomes = race(
        lambda: urge_task(rt, actor("applicant"), city.id),
        lambda: urge_task(rt, actor("410422-reviewer"), city.id),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], AlreadyUrgedToday), outcomes
    assert len(notices(session_factory, kind="urge")) == 1


def test_an_earlier_approver_and_an_admin_may_urge(rt, actor, session_factory, admin, clock):
    iid = submit(rt, actor, session_factory)
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "同意")
    city = only_open_task(session_factory, iid)
    urge_task(rt, actor("410422-reviewer"), city.id, "县级已审完")
    with pytest.raises(AlreadyUrgedToday):  # once a day per task, whoever urges
        urge_task(rt, admin, city.id)
    clock.advance(days=1)
    urge_task(rt, admin, city.id)
    assert [n.recipient for n in notices(session_factory, kind="urge")] == ["g:hrss:410400:approver"] * 2


@pytest.mark.parametrize("username", ["410423-reviewer", "410400-reviewer", "410400-approver"])
def test_others_may_not_urge_and_get_not_found(rt, actor, session_factory, username):
    iid = submit(rt, actor, session_factory)
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "同意")
    city = only_open_task(session_factory, iid)
    with pytest.raises(TaskNotFound):
        urge_task(rt, actor(username), city.id)  # a stranger, a colleague, even a candidate of the step
    with pytest.raises(TaskNotFound):
        urge_task(rt, actor("applicant"), 999999)
    assert notices(session_factory, kind="urge") == []


def test_a_handled_step_cannot_be_urged(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    complete_task(rt, actor("410422-reviewer"), county.id, {}, "同意")
    with pytest.raises(TaskAlreadyHandled):
        urge_task(rt, actor("applicant"), county.id)
    assert notices(session_factory, kind="urge") == []


def test_the_holder_cannot_urge_themselves(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    return_task(rt, actor("410422-reviewer"), county.id, "请补充")
    back = only_open_task(session_factory, iid)
    with pytest.raises(NotAllowed) as refused:
        urge_task(rt, actor("applicant"), back.id)
    assert refused.value.code == "own_step"


# --- reassign ----------------------------------------------------------------------------


def test_an_admin_reassigns_a_held_task_and_both_are_told(rt, actor, session_factory, admin):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer, colleague = actor("410422-reviewer"), actor("410422-approver")
    claim_task(rt, reviewer, county.id)
    reassign_task(rt, admin, county.id, colleague.id, "审核员休假")
    assert only_open_task(session_factory, iid).assignee_id == colleague.id
    assert [(n.recipient, n.title) for n in notices(session_factory, kind="reassign")] == [
        (f"u:{colleague.id}", "改派给您：县级人社局审核"),
        (f"u:{reviewer.id}", "您的待办已改派：县级人社局审核"),
    ]
    [done] = audit_events(session_factory, iid, "reassign")
    assert done.opinion == "审核员休假"
    assert done.details == {
        "from_user_id": reviewer.id,
        "from_name": reviewer.name,
        "to_user_id": colleague.id,
        "to_name": colleague.name,
    }
    complete_task(rt, colleague, county.id, {}, "同意")
    assert only_open_task(session_factory, iid).spec_name == "city_approval"


def test_an_admin_reassigns_a_queued_task(rt, actor, session_factory, admin):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    colleague = actor("410422-approver")
    reassign_task(rt, admin, county.id, colleague.id, "指定办理")
    assert only_open_task(session_factory, iid).assignee_id == colleague.id
    assert [(n.recipient, n.title) for n in notices(session_factory, kind="reassign")] == [
        (f"u:{colleague.id}", "改派给您：县级人社局审核")
    ]


def test_reassign_refusals(rt, actor, session_factory, admin, world):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer = actor("410422-reviewer")
    with pytest.raises(NotAllowed, match="admin_only"):
        reassign_task(rt, reviewer, county.id, world["410422-approver"], "我想改派")
    with pytest.raises(TaskNotFound):
        reassign_task(rt, actor("410423-reviewer"), county.id, world["410422-approver"], "越权")
    with pytest.raises(InvalidCommand, match="opinion_required"):
        reassign_task(rt, admin, county.id, world["410422-approver"], "")
    with pytest.raises(InvalidCommand, match="no_active_user"):
        reassign_task(rt, admin, county.id, 999999, "改派")
    claim_task(rt, reviewer, county.id)
    with pytest.raises(InvalidCommand, match="reassign_same_holder"):
        reassign_task(rt, admin, county.id, reviewer.id, "改派")
    assert "reassign" not in audit_actions(session_factory, iid)


def test_reassigning_a_countersign_gives_its_turn_to_the_new_holder(rt, actor, session_factory, admin, clock):
    iid, city = at_city(rt, actor, session_factory)
    approver, colleague = actor("410400-approver"), actor("410400-reviewer")
    countersign_task(rt, approver, city.id, colleague.id, "before", "请核对")
    with session_factory() as s, s.begin():
        third = User(username="c3", password_hash="x", display_name="第三人", created_at=clock())
        s.add(third)
        s.flush()
        third_id = third.id
    reassign_task(rt, admin, city.id, third_id, "审核员休假")
    third_actor = Actor(third_id, "第三人", (f"u:{third_id}",))
    complete_task(rt, third_actor, city.id, {}, "核对无误")
    assert only_open_task(session_factory, iid).assignee_id == approver.id
