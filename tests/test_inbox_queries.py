"""Inbox lists: scoping, every filter and sort, keyset paging, counts, saved filters, copies, index use."""

import re
from datetime import date
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select

from domain.organisations.records import Organisation
from engine.inbox.list_query import BadQuery
from engine.inbox.list_query import ListQuery
from engine.inbox.list_query import parse_query
from engine.inbox.queries import CAP
from engine.inbox.queries import inbox_counts
from engine.inbox.queries import list_tasks
from engine.inbox.queries import workable_summaries
from engine.inbox.saved_filters import SavedFilterNotFound
from engine.inbox.saved_filters import delete_filter
from engine.inbox.saved_filters import save_filter
from engine.inbox.saved_filters import saved_filter
from engine.inbox.saved_filters import saved_filters
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskCc
from engine.runtime.projection import NO_DUE_DATE
from engine.tasks.copies import mark_cc_read
from tests.conftest import POSTGRES

COUNTY = "g:hrss:410422:reviewer"
FULL_SCAN = re.compile(r"^SCAN (human_task|human_task_candidate|process_instance|task_cc|user_account)\b")
OTHER_COUNTY = "g:hrss:410423:reviewer"


@pytest.fixture
def make_task(session_factory, world, clock):
    """Return a function adding one task (and its instance) straight into the projection tables."""
    with session_factory() as s, s.begin():
        definition = ProcessDefinition(
            process_key="demo_approval",
            version=1,
            name="demo",
            bpmn_xml="<x/>",
            checksum="0",
            source_name="demo.bpmn",
            deployed_by="test",
            deployed_at=clock(),
        )
        s.add(definition)
        s.flush()
        definition_id = definition.id

    def make(**spec) -> int:
        with session_factory() as s, s.begin():
            return _insert(s, definition_id, clock(), world, spec)

    return make


def _insert(s, definition_id, now, world, spec) -> int:
    created = now + spec.get("created", timedelta(0))
    due = now + spec["due"] if spec.get("due") is not None else None
    initiator = spec.get("initiator", "applicant")
    instance = ProcessInstance(
        definition_id=definition_id,
        process_key=spec.get("process", "demo_approval"),
        business_key=spec.get("business_key"),
        initiator_id=world[initiator] if initiator else None,
        subject=spec.get("subject", "学时申报"),
        region_code=spec.get("region", "410422"),
        status=spec.get("status", "running"),
        state="{}",
        created_at=created,
        updated_at=created,
    )
    s.add(instance)
    s.flush()
    done_by = spec.get("done_by")
    row = HumanTask(
        task_uuid=f"uuid-{instance.id}",
        instance_id=instance.id,
        process_key=instance.process_key,
        spec_name="county_review",
        name=spec.get("name", "县级人社局审核"),
        form_key="review",
        candidate_rule="county_hrss_reviewer",
        candidates=spec.get("candidates", COUNTY),
        state="done" if done_by else "open",
        assignee_id=world[spec["assignee"]] if spec.get("assignee") else None,
        subject=instance.subject,
        region_code=instance.region_code,
        priority=spec.get("priority", 50),
        created_at=created,
        due_at=due,
        due_sort=due or NO_DUE_DATE,
        completed_at=now + spec.get("done_at", timedelta(0)) if done_by else None,
        completed_by_id=world[done_by] if done_by else None,
        completed_by_name=done_by,
        outcome="approve" if done_by else None,
    )
    s.add(row)
    s.flush()
    if row.state == "open" and row.assignee_id is None:
        for principal in dict.fromkeys(row.candidates.split()):
            keys = {"due_sort": row.due_sort, "created_at": row.created_at, "priority": row.priority}
            s.add(HumanTaskCandidate(human_task_id=row.id, principal=principal, **keys))
    return row.id


def ids(session_factory, who, view="mine", clock=None, limit=20, cursor=None, **args):
    """Return the ids of one page of a list."""
    with session_factory() as s:
        page = list_tasks(s, who, parse_query({"view": view, **args}), clock(), cursor, limit)
    return [getattr(item, "id", None) or item.instance_id for item in page.items]


def every_page(session_factory, who, clock, view, sort, size=3) -> list[int]:
    """Walk a list to its end by cursor; return the ids in the order met."""
    found, cursor = [], None
    query = parse_query({"view": view, "sort": sort})
    with session_factory() as s:
        while True:
            page = list_tasks(s, who, query, clock(), cursor, size)
            found += [getattr(item, "id", None) or item.instance_id for item in page.items]
            if page.next_cursor is None:
                return found
            assert len(page.items) == size
            cursor = page.next_cursor


def test_mine_lists_only_open_tasks_assigned_to_me_soonest_due_first(
    make_task, actor, session_factory, clock
):
    later = make_task(assignee="410422-reviewer", due=timedelta(days=5))
    sooner = make_task(assignee="410422-reviewer", due=timedelta(days=1))
    undated = make_task(assignee="410422-reviewer")
    make_task(assignee="410422-approver", due=timedelta(days=1))
    make_task(due=timedelta(days=1))  # queued, not mine
    make_task(done_by="410422-reviewer")
    assert ids(session_factory, actor("410422-reviewer"), clock=clock) == [sooner, later, undated]


def test_queue_lists_a_task_offered_to_two_of_my_principals_once(make_task, actor, session_factory, clock):
    reviewer = actor("410422-reviewer")
    both = make_task(candidates=f"u:{reviewer.id} {COUNTY}", due=timedelta(days=1))
    group = make_task(due=timedelta(days=2))
    by_name = make_task(candidates=f"u:{reviewer.id} u:{actor('410422-approver').id}", due=timedelta(days=3))
    make_task(candidates=OTHER_COUNTY)
    make_task(assignee="410422-approver")
    assert ids(session_factory, reviewer, "queue", clock) == [both, group, by_name]


def test_county_hrss_cannot_see_other_county_tasks_in_any_list(make_task, actor, session_factory, clock):
    make_task(candidates=OTHER_COUNTY, initiator="410423-reviewer")
    make_task(assignee="410423-reviewer")
    make_task(done_by="410423-reviewer")
    reviewer = actor("410422-reviewer")
    for view in ("mine", "queue", "done", "started", "cc"):
        assert ids(session_factory, reviewer, view, clock) == [], view


def test_done_lists_tasks_i_handled_newest_first(make_task, actor, session_factory, clock):
    first = make_task(done_by="410422-reviewer", done_at=timedelta(hours=1))
    second = make_task(done_by="410422-reviewer", done_at=timedelta(hours=2))
    make_task(done_by="410422-approver")
    assert ids(session_factory, actor("410422-reviewer"), "done", clock) == [second, first]


def instance_of(session_factory, task_id: int) -> int:
    with session_factory() as s:
        return s.get(HumanTask, task_id).instance_id


def test_started_by_me_shows_the_current_step_and_who_holds_it(make_task, actor, session_factory, clock):
    queued = make_task(initiator="applicant", created=timedelta(hours=1), subject="待认领的申请")
    held = make_task(initiator="applicant", assignee="410422-approver", created=timedelta(hours=2))
    make_task(initiator="410422-reviewer")
    with session_factory() as s:
        page = list_tasks(s, actor("applicant"), ListQuery("started", "created"), clock())
        office = s.scalar(
            select(Organisation.name).where(Organisation.region_code == "410422", Organisation.kind == "hrss")
        )
    first, second = page.items
    assert first.instance_id == instance_of(session_factory, held)
    assert second.instance_id == instance_of(session_factory, queued)
    assert first.steps[0].holder == "叶县approver" and first.steps[0].name == "县级人社局审核"
    assert second.steps[0].holder is None and second.steps[0].queues == ((office, "reviewer"),)
    assert second.subject == "待认领的申请" and second.status == "running"


def test_copies_to_me_and_my_groups_list_newest_first_and_mark_read(
    make_task, actor, session_factory, clock, world
):
    reviewer = actor("410422-reviewer")
    task, other = make_task(assignee="410400-approver"), make_task(assignee="410400-approver")
    with session_factory() as s, s.begin():
        for principal, task_id, hours in (
            (f"u:{reviewer.id}", task, 1),
            (COUNTY, other, 2),
            (OTHER_COUNTY, task, 3),
        ):
            instance_id = s.get(HumanTask, task_id).instance_id
            at = clock() + timedelta(hours=hours)
            s.add(TaskCc(instance_id=instance_id, human_task_id=task_id, principal=principal, at=at))
    with session_factory() as s:
        page = list_tasks(s, reviewer, ListQuery("cc", "copied"), clock())
        assert [c.task.id for c in page.items] == [other, task]
        assert inbox_counts(s, reviewer)["cc"] == 2
        foreign = s.scalar(select(TaskCc.id).where(TaskCc.principal == OTHER_COUNTY))
    with session_factory() as s, s.begin():
        assert mark_cc_read(s, reviewer, page.items[0].id, clock()) is True
        assert mark_cc_read(s, reviewer, page.items[0].id, clock()) is False
        with pytest.raises(LookupError):
            mark_cc_read(s, reviewer, foreign, clock())
    with session_factory() as s:
        assert inbox_counts(s, reviewer)["cc"] == 1


FILTER_CASES = {
    "process": ({"process": "register_person"}, {"process": "register_person"}),
    "region": ({"region": "410423"}, {"region": "410423"}),
    "region_city_takes_its_counties": ({"region": "410400"}, {"region": "410423"}),
    "organisation": ({"organisation": "77"}, {"business_key": "organisation_id:77"}),
    "applicant": ({"applicant": "叶县rev"}, {"initiator": "410422-reviewer"}),
    "overdue": ({"overdue": "1"}, {"due": timedelta(hours=-1)}),
    "due_within": ({"due_within": "3"}, {"due": timedelta(days=2)}),
    "created_from": ({"created_from": "2025-11-05"}, {"created": timedelta(days=2)}),
    "created_to": ({"created_to": "2025-11-01"}, {"created": timedelta(days=-3)}),
}


@pytest.mark.parametrize("view", ["mine", "queue"])
@pytest.mark.parametrize("case", FILTER_CASES)
def test_each_filter_keeps_only_the_matching_tasks(case, view, make_task, actor, session_factory, clock):
    args, matching = FILTER_CASES[case]
    who = {"assignee": "410422-reviewer"} if view == "mine" else {}
    candidates = {"candidates": f"{COUNTY} {OTHER_COUNTY}"}
    make_task(**who, **candidates, due=timedelta(days=10), created=timedelta(days=-1), region="411102")
    wanted = make_task(
        **who, **candidates, **{"due": timedelta(days=10), "created": timedelta(hours=1)} | matching
    )
    assert ids(session_factory, actor("410422-reviewer"), view, clock, **args) == [wanted]


def test_started_by_me_filters_by_process_region_and_overdue_steps(make_task, actor, session_factory, clock):
    make_task(initiator="applicant", due=timedelta(days=3))
    late = make_task(
        initiator="applicant", due=timedelta(hours=-2), process="register_person", region="410423"
    )
    instance_id = instance_of(session_factory, late)
    applicant = actor("applicant")
    for args in ({"overdue": "1"}, {"process": "register_person"}, {"region": "410423"}):
        assert ids(session_factory, applicant, "started", clock, **args) == [instance_id], args


@pytest.mark.parametrize("view", ["mine", "queue"])
def test_sort_by_created_newest_first_and_by_priority_highest_first(
    view, make_task, actor, session_factory, clock
):
    who = {"assignee": "410422-reviewer"} if view == "mine" else {}
    old = make_task(**who, created=timedelta(hours=-5), priority=50, due=timedelta(days=1))
    new = make_task(**who, created=timedelta(hours=-1), priority=50, due=timedelta(days=2))
    urgent = make_task(**who, created=timedelta(hours=-3), priority=90, due=timedelta(days=9))
    reviewer = actor("410422-reviewer")
    assert ids(session_factory, reviewer, view, clock, sort="created") == [new, urgent, old]
    assert ids(session_factory, reviewer, view, clock, sort="priority") == [urgent, old, new]
    assert ids(session_factory, reviewer, view, clock) == [old, new, urgent]


@pytest.mark.parametrize(
    ("view", "sort"),
    [("mine", "due"), ("mine", "created"), ("mine", "priority"), ("queue", "due"), ("queue", "created")]
    + [("queue", "priority"), ("done", "completed"), ("started", "created")],
)
def test_keyset_paging_has_no_duplicates_or_gaps(view, sort, make_task, actor, session_factory, clock):
    reviewer = actor("410422-reviewer")
    for n in range(17):  # ties on every sort key: only the id tells these apart
        who = {"assignee": "410422-reviewer"} if view == "mine" else {}
        who = {"done_by": "410422-reviewer", "done_at": timedelta(hours=n % 2)} if view == "done" else who
        who = {"initiator": "410422-reviewer"} if view == "started" else who
        extra = {"candidates": f"u:{reviewer.id} {COUNTY}"} if n % 3 == 0 else {}
        make_task(
            **who, **extra, due=timedelta(days=n % 4) if n % 5 else None, created=timedelta(hours=n % 3)
        )
    whole = ids(session_factory, reviewer, view, clock, limit=100, sort=sort)
    assert len(whole) == 17
    assert every_page(session_factory, reviewer, clock, view, sort) == whole


def test_a_cursor_of_another_list_or_forged_is_refused(make_task, actor, session_factory, clock):
    reviewer = actor("410422-reviewer")
    for _ in range(3):
        make_task(assignee="410422-reviewer")
    with session_factory() as s:
        page = list_tasks(s, reviewer, ListQuery("mine"), clock(), None, 1)
        for query, cursor in (
            (ListQuery("mine", "created"), page.next_cursor),
            (ListQuery("mine"), "due_not-a-date_1"),
            (ListQuery("mine"), "due_2025-11-03T01:00:00_1"),
            (ListQuery("mine"), "due_1"),
            (ListQuery("mine"), "due_99999999999999999999_1"),
        ):
            with pytest.raises(BadQuery):
                list_tasks(s, reviewer, query, clock(), cursor)


@pytest.mark.parametrize(
    "args",
    [{"view": "all"}, {"sort": "name"}, {"view": "done", "sort": "due"}, {"region": "4104"}]
    + [{"due_within": "0"}, {"due_within": "x"}, {"organisation": "-1"}, {"created_from": "3.11.2025"}],
)
def test_malformed_list_parameters_are_refused(args):
    with pytest.raises(BadQuery):
        parse_query(args)


def test_list_query_round_trips_through_its_parameters():
    args = {
        "view": "queue",
        "sort": "priority",
        "region": "410400",
        "overdue": "1",
        "created_from": "2025-11-01",
    }
    query = parse_query(args)
    assert query.filters.created_from == date(2025, 11, 1)
    assert parse_query(query.args()) == query and query.args() == args


def test_counts_of_every_list(make_task, actor, session_factory, clock):
    reviewer = actor("410422-reviewer")
    make_task(assignee="410422-reviewer")
    make_task(candidates=f"u:{reviewer.id} {COUNTY}")
    make_task()
    make_task(candidates=OTHER_COUNTY)
    make_task(done_by="410422-reviewer", initiator="410422-reviewer")
    make_task(initiator="410422-reviewer", status="completed", candidates=OTHER_COUNTY)
    with session_factory() as s:
        counts = inbox_counts(s, reviewer)
    assert counts == {"mine": 1, "queued": 2, "done": 1, "started": 1, "cc": 0}


def test_counts_stop_just_above_the_cap(make_task, actor, session_factory):
    model = make_task()
    with session_factory() as s, s.begin():
        row = s.get(HumanTask, model)
        values = {c.key: getattr(row, c.key) for c in HumanTask.__table__.columns if c.key != "id"}
        copies = s.execute(insert(HumanTask).returning(HumanTask.id), [values] * (CAP + 5)).scalars().all()
        keys = {"principal": COUNTY, "due_sort": row.due_sort, "created_at": row.created_at, "priority": 50}
        queue = [{"human_task_id": i, **keys} for i in copies]
        s.execute(insert(HumanTaskCandidate), queue)
    with session_factory() as s:
        counts = inbox_counts(s, actor("410422-reviewer"))
    assert counts["queued"] == CAP + 1  # shown as "999+"


def test_saved_filters_belong_to_their_user(actor, session_factory, clock, world):
    reviewer, other = actor("410422-reviewer"), actor("410423-reviewer")
    with session_factory() as s, s.begin():
        mine = save_filter(s, reviewer, "逾期", parse_query({"view": "queue", "overdue": "1"}), clock())
        again = save_filter(s, reviewer, "逾期", parse_query({"view": "mine", "overdue": "1"}), clock())
    assert again == mine
    with session_factory() as s:
        assert [(f.name, f.view, f.query) for f in saved_filters(s, reviewer)] == [
            ("逾期", "mine", {"view": "mine", "overdue": "1"})
        ]
        assert saved_filters(s, other) == []
        with pytest.raises(SavedFilterNotFound):
            saved_filter(s, other, mine)
    with session_factory() as s, s.begin():
        with pytest.raises(SavedFilterNotFound):
            delete_filter(s, other, mine)
        delete_filter(s, reviewer, mine)
        with pytest.raises(BadQuery):
            save_filter(s, reviewer, "  ", ListQuery(), clock())


def test_bulk_labels_only_tasks_the_actor_may_work(make_task, actor, session_factory):
    mine, foreign = make_task(), make_task(candidates=OTHER_COUNTY)
    with session_factory() as s:
        found = workable_summaries(s, actor("410422-reviewer"), [mine, foreign])
    assert list(found) == [mine] and found[mine][1] == "review"


@pytest.mark.skipif(POSTGRES, reason="reads SQLite's query plans")
@pytest.mark.parametrize(
    "args",
    [{"view": "mine"}, {"view": "mine", "sort": "created"}, {"view": "mine", "sort": "priority"}]
    + [
        {"view": "queue"},
        {"view": "done"},
        {"view": "started"},
        {"view": "cc"},
        {"view": "queue", "overdue": "1"},
    ],
)
def test_every_list_is_an_index_search_never_a_table_scan(args, make_task, actor, session_factory, clock):
    make_task(assignee="410422-reviewer")
    statements = []
    with session_factory() as s:
        engine = s.get_bind()
        listener = lambda *a: statements.append((a[2], a[3]))  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            list_tasks(s, actor("410422-reviewer"), parse_query(args), clock(), None, 20)
            inbox_counts(s, actor("410422-reviewer"))
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        for sql, params in statements:
            plan = s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
            assert not [row[-1] for row in plan if FULL_SCAN.match(row[-1])], (sql, plan)


@pytest.mark.skipif(POSTGRES, reason="reads SQLite's query plans")
@pytest.mark.parametrize("sort", ["due", "created"])
def test_a_queue_by_due_date_or_newest_reads_each_principals_index_range_in_order(
    sort, make_task, actor, session_factory, clock
):
    make_task()
    statements = []
    with session_factory() as s:
        engine = s.get_bind()
        listener = lambda *a: statements.append((a[2], a[3]))  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            list_tasks(s, actor("410422-reviewer"), parse_query({"view": "queue", "sort": sort}), clock())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        sql, params = statements[-1]
        plan = [row[-1] for row in s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    # one sort: the merge of the per-principal pages; a scan sorting a whole queue would add one per principal
    assert sum("TEMP B-TREE FOR ORDER BY" in step for step in plan) == 1, plan


def test_the_list_statements_select_the_fields_of_a_task_item_in_order():
    from engine.inbox import statements as inbox_sql
    from engine.inbox.queries import TaskItem

    assert [column.key for column in inbox_sql.ITEM] == list(TaskItem.__dataclass_fields__)
