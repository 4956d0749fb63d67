"""抄送: who may copy a task, to whom, one copy per reader, notice and audit; who may view, who may act."""

import pytest
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from domain.accounts.users import User
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import TaskNotFound
from engine.inbox.diagram_view import instance_diagram
from engine.inbox.list_query import ListQuery
from engine.inbox.queries import history
from engine.inbox.queries import inbox_counts
from engine.inbox.queries import list_tasks
from engine.inbox.queries import task_detail
from engine.runtime.models import TaskCc
from engine.tasks.assignment import claim_task
from engine.tasks.commands import complete_task
from engine.tasks.copies import MAX_RECIPIENTS
from engine.tasks.copies import copy_task
from engine.tasks.copies import mark_copies_read
from engine.tasks.visibility import may_view_instance
from tests.engine_helpers import audit_events
from tests.engine_helpers import notices
from tests.engine_helpers import only_open_task
from tests.test_demo_approval import submit


@pytest.fixture
def county(rt, actor, session_factory):
    """The county review step of a submitted application, claimed by the county reviewer."""
    iid = submit(rt, actor, session_factory)
    task = only_open_task(session_factory, iid)
    claim_task(rt, actor("410422-reviewer"), task.id)
    return task


def copies_of(session_factory, task_id):
    with session_factory() as s:
        return s.execute(
            select(TaskCc.principal, TaskCc.by_user_id)
            .where(TaskCc.human_task_id == task_id)
            .order_by(TaskCc.id)
        ).all()


# --- copying ----------------------------------------------------------------------------


def test_the_holder_copies_a_task_and_each_recipient_gets_a_copy_and_a_notice(
    rt, actor, session_factory, county
):
    reviewer, colleague, city = actor("410422-reviewer"), actor("410422-approver"), actor("410400-reviewer")
    result = copy_task(rt, reviewer, county.id, [colleague.id, city.id], "请知悉学时认定情况")

    assert [r.name for r in result.copied] == ["叶县approver", "平顶山市reviewer"] and result.already == ()
    assert copies_of(session_factory, county.id) == [
        (f"u:{colleague.id}", reviewer.id),
        (f"u:{city.id}", reviewer.id),
    ]
    for user in (colleague, city):
        assert [(n.kind, n.title, n.body) for n in notices(session_factory, f"u:{user.id}")] == [
            ("cc", "抄送给您：县级人社局审核", "请知悉学时认定情况")
        ]
    [event] = audit_events(session_factory, county.instance_id, "cc")
    assert event.actor_id == reviewer.id and event.opinion == "请知悉学时认定情况"
    assert event.details["to_names"] == ["叶县approver", "平顶山市reviewer"]
    assert event.details["to_user_ids"] == [colleague.id, city.id]


def test_a_candidate_of_a_queued_task_may_copy_it(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    task = only_open_task(session_factory, iid)
    result = copy_task(rt, actor("410422-reviewer"), task.id, [actor("410422-approver").id])
    assert len(result.copied) == 1 and len(copies_of(session_factory, task.id)) == 1


def test_an_administrator_may_copy_any_task(rt, actor, session_factory, county, admin):
    result = copy_task(rt, admin, county.id, [actor("410000-approver").id])  # the province's HRSS
    assert [r.name for r in result.copied] == ["河南省approver"]


def test_copying_to_the_same_user_again_makes_no_second_copy_and_says_so(rt, actor, session_factory, county):
    reviewer, colleague, city = actor("410422-reviewer"), actor("410422-approver"), actor("410400-reviewer")
    copy_task(rt, reviewer, county.id, [colleague.id])
    again = copy_task(rt, reviewer, county.id, [colleague.id, city.id, city.id])
    assert [r.id for r in again.copied] == [city.id] and [r.id for r in again.already] == [colleague.id]
    nothing_new = copy_task(rt, reviewer, county.id, [city.id])
    assert nothing_new.copied == () and [r.id for r in nothing_new.already] == [city.id]

    assert len(copies_of(session_factory, county.id)) == 2
    assert len(notices(session_factory, f"u:{colleague.id}")) == 1
    assert len(notices(session_factory, f"u:{city.id}")) == 1
    assert [e.details["to_user_ids"] for e in audit_events(session_factory, county.instance_id, "cc")] == [
        [colleague.id],
        [city.id],
    ]


def test_the_database_refuses_a_second_copy_to_the_same_reader(rt, actor, session_factory, county):
    colleague = actor("410422-approver")
    copy_task(rt, actor("410422-reviewer"), county.id, [colleague.id])
    with pytest.raises(IntegrityError), session_factory() as s, s.begin():
        s.add(
            TaskCc(
                instance_id=county.instance_id,
                human_task_id=county.id,
                principal=f"u:{colleague.id}",
                at=county.created_at,
            )
        )


@pytest.mark.parametrize(
    ("recipients", "reason"),
    [
        (lambda ids: [], "copy_nobody"),
        (lambda ids: ids["410422-reviewer"], "copy_to_self"),
        (lambda ids: [999999], "no_active_user"),
        (lambda ids: ids["inactive"], "no_active_user"),
        (lambda ids: list(range(1000, 1000 + MAX_RECIPIENTS + 1)), "copy_too_many"),
        (lambda ids: ["5"], "copy_bad_user_ids"),
        (lambda ids: ids["410423-reviewer"], "copy_outside_region"),  # another county
        (lambda ids: ids["applicant"], "copy_outside_region"),  # not an HRSS, not a colleague
    ],
)
def test_recipients_are_checked_and_a_refused_copy_writes_nothing(
    rt, actor, session_factory, county, world, recipients, reason
):
    with session_factory() as s, s.begin():
        s.execute(update(User).where(User.id == world["410422-approver"]).values(active=False))
    ids = {name: [user_id] for name, user_id in world.items()} | {"inactive": [world["410422-approver"]]}
    with pytest.raises(InvalidCommand, match=reason):
        copy_task(rt, actor("410422-reviewer"), county.id, recipients(ids), "看一下")
    assert copies_of(session_factory, county.id) == []
    assert audit_events(session_factory, county.instance_id, "cc") == []


def test_a_note_too_long_is_refused(rt, actor, county):
    with pytest.raises(InvalidCommand, match=r"copy_note_too_long\(most=1000\)"):
        copy_task(rt, actor("410422-reviewer"), county.id, [actor("410400-reviewer").id], "字" * 1001)


def test_a_stranger_is_told_the_task_does_not_exist_and_a_reader_may_not_copy_it(
    rt, actor, session_factory, county
):
    city = actor("410400-reviewer")
    with pytest.raises(TaskNotFound):
        copy_task(rt, actor("410423-reviewer"), county.id, [city.id])  # another county guessing the id
    with pytest.raises(TaskNotFound):
        copy_task(rt, actor("410422-reviewer"), 999999, [city.id])
    with pytest.raises(NotAllowed, match="read_only"):
        copy_task(rt, actor("applicant"), county.id, [city.id])  # the initiator reads it
    copy_task(rt, actor("410422-reviewer"), county.id, [city.id])
    with pytest.raises(NotAllowed, match="read_only"):
        copy_task(rt, city, county.id, [actor("410400-approver").id])  # a copy's reader
    assert len(copies_of(session_factory, county.id)) == 1


# --- the list, the badge, reading -----------------------------------------------------------


def test_the_copy_is_listed_under_copied_to_me_and_opening_it_reads_it(
    rt, actor, session_factory, county, clock
):
    reviewer, colleague = actor("410422-reviewer"), actor("410422-approver")
    copy_task(rt, reviewer, county.id, [colleague.id], "请阅")
    with session_factory() as s:
        [item] = list_tasks(s, colleague, ListQuery("cc", "copied"), clock()).items
        assert item.task.id == county.id and item.by_name == "叶县reviewer" and item.read_at is None
        assert inbox_counts(s, colleague)["cc"] == 1
        assert inbox_counts(s, reviewer)["cc"] == 0
    with session_factory() as s, s.begin():
        assert mark_copies_read(s, colleague, county.id, clock()) == 1
        assert mark_copies_read(s, colleague, county.id, clock()) == 0
    with session_factory() as s:
        assert inbox_counts(s, colleague)["cc"] == 0
        assert task_detail(rt, s, colleague, county.id).copy_unread is False


# --- who may view, who may act ---------------------------------------------------------------


def test_a_copys_reader_views_the_task_its_diagram_and_history_but_may_not_act(
    rt, actor, session_factory, county
):
    reader = actor("410422-approver")
    copy_task(rt, actor("410422-reviewer"), county.id, [reader.id], "请阅")
    with session_factory() as s:
        detail = task_detail(rt, s, reader, county.id)
        assert (detail.may_act, detail.copied, detail.copy_unread) == (False, True, True)
        assert instance_diagram(s, reader, county.instance_id).current == ("county_review",)
        [copied] = [e for e in history(s, reader, county.instance_id) if e.action == "cc"]
        assert copied.recipients == ("叶县approver",) and copied.opinion == "请阅"
    with pytest.raises(NotAllowed, match="read_only"):
        complete_task(rt, reader, county.id, {}, "我来批")
    with pytest.raises(NotAllowed):
        claim_task(rt, reader, county.id)
    assert only_open_task(session_factory, county.instance_id).state == "open"


def test_the_initiator_and_an_earlier_handler_view_but_do_not_act(rt, actor, session_factory, county):
    reviewer = actor("410422-reviewer")
    complete_task(rt, reviewer, county.id, {}, "同意")
    city_task = only_open_task(session_factory, county.instance_id)
    with session_factory() as s:
        for reader in (actor("applicant"), reviewer):
            detail = task_detail(rt, s, reader, city_task.id)
            assert detail.may_act is False and detail.copied is False
            assert may_view_instance(s, reader, county.instance_id)
        assert task_detail(rt, s, actor("410400-approver"), city_task.id).may_act is True
    with pytest.raises(NotAllowed):
        complete_task(rt, reviewer, city_task.id, {}, "越级")


@pytest.mark.parametrize("stranger", ["410423-reviewer", "410000-approver", "410422-approver"])
def test_a_stranger_is_told_the_task_and_its_instance_do_not_exist(
    rt, actor, session_factory, county, stranger
):
    who = actor(stranger)
    with session_factory() as s:
        with pytest.raises(TaskNotFound):
            task_detail(rt, s, who, county.id)
        with pytest.raises(TaskNotFound):
            history(s, who, county.instance_id)
        with pytest.raises(TaskNotFound):
            instance_diagram(s, who, county.instance_id)
    with pytest.raises(TaskNotFound):
        complete_task(rt, who, county.id, {}, "越权")
