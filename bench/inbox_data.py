"""The inbox benchmark's data set: a province's offices, staff and applicants, and a million open tasks.

Written straight into the tables with bulk inserts (bench/bulk_rows.py): the inbox reads only the
projection, so no workflow is run or stored. The secondary indexes are dropped for the load and
built once at the end, as a restore would.
"""

import random
from datetime import datetime
from datetime import timedelta

from sqlalchemy import Engine

from bench.bulk_rows import CHUNK
from bench.bulk_rows import BulkWriter
from bench.bulk_rows import analyze
from bench.inbox_world import PROVINCE
from bench.inbox_world import Plan
from bench.inbox_world import Staff
from bench.inbox_world import World
from bench.inbox_world import people
from domain.accounts.principals import group_principal
from domain.accounts.principals import org_principal
from domain.accounts.users import User
from domain.organisations.records import Organisation
from domain.organisations.records import Region
from engine.runtime.models import HumanTask
from engine.runtime.models import HumanTaskCandidate
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskCc
from engine.runtime.projection import NO_DUE_DATE

# (share of open tasks, office level, role, step name, candidate rule); the rest are claimed by staff
QUEUES = (
    (0.55, "county", "reviewer", "县级人社局审核", "county_hrss_reviewer"),
    (0.15, "city", "approver", "市级人社局审批", "city_hrss_approver"),
    (0.03, "province", "reviewer", "省级人社局复核", "region_hrss_reviewer"),
    (0.12, "employer", "hr", "单位人事审核", "employer_hr"),
)
NAMED_SHARE = 0.05  # queued tasks also offered by name to one reviewer of the group
PROCESSES = ("register_person", "register_organisation", "hours_declaration")
STAFF_STARTS = 0.02  # instances an HRSS staff member started (their own registration, say)
ZIPF = 0.4  # how unevenly claimed and handled tasks fall on staff: the busiest hold several hundred


def build(db: Engine, plan: Plan, now: datetime) -> World:
    """Fill an empty database with the plan's province and tasks; return what the benchmark needs."""
    rng = random.Random(plan.seed)
    tables = [Region, Organisation, User, ProcessDefinition, ProcessInstance, HumanTask]
    tables = [t.__table__ for t in (*tables, HumanTaskCandidate, TaskCc)]
    with db.begin() as conn:
        writer = BulkWriter(conn)
        indexes = writer.drop_indexes(tables)
        world = people(writer, plan, rng, now)
        writer.rows(ProcessDefinition.__table__, _definitions(now))
        _open_tasks(writer, world, plan, rng, now)
        _done_tasks(writer, world, plan, rng, now)
        _copies(writer, world, plan, rng, now)
        writer.create_indexes(indexes)
    analyze(db)
    return world


def _definitions(now: datetime):
    for number, key in enumerate(PROCESSES, start=1):
        yield {
            "id": number,
            "process_key": key,
            "version": 1,
            "name": key,
            "bpmn_xml": "<bpmn/>",
            "checksum": "0",
            "source_name": f"{key}.bpmn",
            "deployed_by": "bench",
            "deployed_at": now,
        }


def _weighted(rng: random.Random, items: list, count: int) -> list:
    """Draw `count` items, the n-th in a shuffled order weighted 1 / n ** ZIPF."""
    order = items[:]
    rng.shuffle(order)
    return rng.choices(order, weights=[1 / (n + 1) ** ZIPF for n in range(len(order))], k=count)


def _open_tasks(writer: BulkWriter, world: World, plan: Plan, rng: random.Random, now: datetime) -> None:
    """Write one running instance per open task, the task, and its queue rows unless it is claimed."""
    by_office: dict[str, list[Staff]] = {}
    for member in world.staff:
        by_office.setdefault(member.region, []).append(member)
    counties = {}
    for county in world.counties:
        counties.setdefault(county[:4] + "00", []).append(county)
    queued = sum(share for share, *_ in QUEUES)
    claimed = iter(_weighted(rng, [s for s in world.staff if s.level != "province"], plan.open_tasks))
    tasks, queue, instances = [], [], []
    for task_id in range(1, plan.open_tasks + 1):
        pick = rng.random()
        if pick < queued:
            spec, candidates, region, assignee = _queued(rng, world, by_office, pick)
        else:
            member = next(claimed)
            spec = next(q for q in QUEUES if q[1] == member.level)
            region = member.region if member.level == "county" else rng.choice(counties[member.region])
            candidates, assignee = group_principal("hrss", member.region, member.role), member.user_id
        instance = _instance(task_id, region, rng, world, now)
        instances.append(instance)
        tasks.append(_task(task_id, instance, spec, candidates, assignee, rng, now))
        if assignee is None:
            keys = {k: tasks[-1][k] for k in ("due_sort", "created_at", "priority")}
            queue += [{"human_task_id": task_id, "principal": p, **keys} for p in candidates.split()]
        if len(tasks) == CHUNK:
            _flush(writer, instances, tasks, queue)
            tasks, queue, instances = [], [], []
    _flush(writer, instances, tasks, queue)
    world.tasks = plan.open_tasks


def _flush(writer: BulkWriter, instances: list, tasks: list, queue: list) -> None:
    writer.rows(ProcessInstance.__table__, instances)
    writer.rows(HumanTask.__table__, tasks)
    writer.rows(HumanTaskCandidate.__table__, queue)


def _queued(rng: random.Random, world: World, by_office: dict, pick: float):
    """Choose a queued task's step and candidates: a county, city or province group, or an employer's HR."""
    spec = QUEUES[-1]
    for spec in QUEUES:  # the loop stops at the chosen step
        if pick < spec[0]:
            break
        pick -= spec[0]
    _share, level, role, *_ = spec
    if level == "employer":
        employer, county = rng.choice(world.employers)
        return spec, org_principal(employer, "hr"), county, None
    region = rng.choice(world.counties)
    office = {"county": region, "city": region[:4] + "00", "province": PROVINCE}[level]
    candidates = group_principal("hrss", office, role)
    if rng.random() < NAMED_SHARE:
        named = rng.choice(by_office[office])
        candidates = f"u:{named.user_id} {candidates}"
    return spec, candidates, region, None


def _instance(instance_id: int, region: str, rng: random.Random, world: World, now: datetime) -> dict:
    process = rng.choice(PROCESSES)
    if rng.random() < STAFF_STARTS:
        initiator = rng.choice(world.staff).user_id
    else:
        initiator = rng.choice(world.applicants)
    created = now - timedelta(seconds=rng.randrange(60 * 86400))
    employer = rng.choice(world.employers)[0]
    return {
        "id": instance_id,
        "definition_id": PROCESSES.index(process) + 1,
        "process_key": process,
        "business_key": f"organisation_id:{employer}" if process == "register_organisation" else None,
        "initiator_id": initiator,
        "subject": f"{world.names[initiator]}的{'单位注册' if employer % 2 else '人员注册'}申请",
        "region_code": region,
        "status": "running",
        "state": "{}",
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }


def _task(task_id: int, instance: dict, spec, candidates: str, assignee, rng, now: datetime) -> dict:
    _share, _level, _role, name, rule = spec
    due = now + timedelta(seconds=rng.randrange(-10 * 86400, 30 * 86400)) if rng.random() < 0.9 else None
    created = instance["created_at"] + timedelta(seconds=rng.randrange(86400))
    return {
        "id": task_id,
        "task_uuid": f"{task_id:032x}",
        "instance_id": instance["id"],
        "process_key": instance["process_key"],
        "spec_name": rule,
        "name": name,
        "form_key": "review",
        "candidate_rule": rule,
        "candidates": candidates,
        "allowed_actions": "approve,return,reject,transfer,delegate",
        "state": "open",
        "assignee_id": assignee,
        "owner_id": None,
        "subject": instance["subject"],
        "region_code": instance["region_code"],
        "priority": rng.choices((50, 80, 90), weights=(85, 10, 5))[0],
        "escalation_level": 0,
        "created_at": created,
        "due_at": due,
        "due_sort": due or NO_DUE_DATE,
        "completed_at": None,
        "completed_by_id": None,
        "completed_by_name": None,
        "outcome": None,
    }


def _done_tasks(writer: BulkWriter, world: World, plan: Plan, rng: random.Random, now: datetime) -> None:
    """Write the earlier, finished steps of some running instances, handled mostly by busy staff."""
    handlers = _weighted(rng, world.staff, plan.done_tasks)
    rows = []
    for n, member in enumerate(handlers):
        task_id = plan.open_tasks + n + 1
        instance_id = rng.randrange(1, plan.open_tasks + 1)
        done_at = now - timedelta(seconds=rng.randrange(90 * 86400))
        rows.append(
            {
                "id": task_id,
                "task_uuid": f"{task_id:032x}",
                "instance_id": instance_id,
                "process_key": PROCESSES[0],
                "spec_name": "county_hrss_reviewer",
                "name": "县级人社局审核",
                "form_key": "review",
                "candidate_rule": "county_hrss_reviewer",
                "candidates": group_principal("hrss", member.region, member.role),
                "allowed_actions": "approve,return,reject",
                "state": "done",
                "assignee_id": member.user_id,
                "subject": f"第{instance_id}号申请",
                "region_code": member.region,
                "priority": 50,
                "escalation_level": 0,
                "created_at": done_at - timedelta(days=2),
                "due_sort": NO_DUE_DATE,
                "completed_at": done_at,
                "completed_by_id": member.user_id,
                "completed_by_name": world.names[member.user_id],
                "outcome": "approve",
            }
        )
    writer.rows(HumanTask.__table__, rows)


def _copies(writer: BulkWriter, world: World, plan: Plan, rng: random.Random, now: datetime) -> None:
    """Write copies (抄送) of open tasks to offices and to staff members, most still unread."""
    rows, sent = [], set()
    while len(rows) < plan.copies:
        member = rng.choice(world.staff)
        principal = (
            f"u:{member.user_id}"
            if rng.random() < 0.4
            else group_principal("hrss", member.region, member.role)
        )
        at = now - timedelta(seconds=rng.randrange(30 * 86400))
        task_id = rng.randrange(1, plan.open_tasks + 1)
        if (task_id, principal) in sent:  # one copy per task and reader
            continue
        sent.add((task_id, principal))
        rows.append(
            {
                "id": len(rows) + 1,
                "instance_id": task_id,  # one instance per open task, numbered alike
                "human_task_id": task_id,
                "principal": principal,
                "by_user_id": rng.choice(world.staff).user_id,
                "at": at,
                "read_at": at + timedelta(hours=1) if rng.random() < 0.3 else None,
            }
        )
    writer.rows(TaskCc.__table__, rows)
