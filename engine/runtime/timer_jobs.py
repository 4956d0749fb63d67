"""Timer jobs: rows for waiting timer events, claimed by lease and fired exactly once by the sweep."""

import logging
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from uuid import UUID
from weakref import WeakKeyDictionary

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from engine.runtime.models import TimerJob
from engine.runtime.statements import Prepared
from engine.scripting.script_engine import timer_due

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
# a failing timer is tried again after each of these waits, then parked as an incident: a passing
# fault (the mail server restarting, a deadlock) heals itself; a lasting one reaches the administrator
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
JOBS = TimerJob.__table__
_UNFIRED = Prepared(
    select(JOBS.c.task_uuid).where(JOBS.c.instance_id == bindparam("instance_id"), JOBS.c.fired_at.is_(None))
)
_DROP_UNFIRED = delete(JOBS).where(
    JOBS.c.task_uuid.in_(bindparam("uuids", expanding=True)), JOBS.c.fired_at.is_(None)
)
_INSERT_JOB = Prepared(insert(JOBS))
_JOB_COLUMNS = ("instance_id", "task_uuid", "spec_name", "due_at", "fired_at", "lease_owner")
_JOB = Prepared(select(*(JOBS.c[name] for name in _JOB_COLUMNS)).where(JOBS.c.id == bindparam("job_id")))
_MARK_FIRED = Prepared(
    update(JOBS).where(JOBS.c.id == bindparam("job_id")).values(fired_at=bindparam("fired"), last_error=None)
)


_HAS_TIMERS: WeakKeyDictionary = WeakKeyDictionary()


def has_timer_events(workflow) -> bool:
    """Say whether the workflow's specs hold any timer event; computed once per parsed spec."""
    spec = workflow.spec
    found = _HAS_TIMERS.get(spec)
    if found is None:
        specs = [spec, *workflow.subprocess_specs.values()]
        found = any(
            isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition)
            for each in specs
            for task_spec in each.task_specs.values()
        )
        _HAS_TIMERS[spec] = found
    return found


def sync_timer_jobs(ctx, instance, workflow, new: bool = False) -> None:
    """Make the timer_job rows of an instance match its waiting timer events; `new`: it has no rows yet."""
    if not has_timer_events(workflow):
        return  # an instance keeps its version's spec: one without timers never had timer rows
    waiting = {}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            due = timer_due(task)
            if due is not None:
                waiting[str(task.id)] = (task, due)
    existing = set() if new else _unfired_uuids(ctx.db, instance.id)
    gone = existing - waiting.keys()
    if gone:
        ctx.db.execute(_DROP_UNFIRED, {"uuids": list(gone)})
    added = [
        {
            "instance_id": instance.id,
            "task_uuid": uuid,
            "spec_name": task.task_spec.bpmn_id,
            "kind": "boundary" if type(task.task_spec).__name__ == "BoundaryEvent" else "catch",
            "due_at": due,
        }
        for uuid, (task, due) in waiting.items()
        if uuid not in existing
    ]
    ctx.db.run_many(_INSERT_JOB, added)


def _unfired_uuids(db, instance_id: int) -> set[str]:
    return {found[0] for found in db.all(_UNFIRED, {"instance_id": instance_id})}


def claim_due_jobs(session, now: datetime, owner: str, limit: int) -> list[int]:
    """Lease up to `limit` due, unfired jobs whose lease is free; safe with several sweepers at once."""
    due = (
        select(TimerJob.id)
        .where(
            TimerJob.fired_at.is_(None),
            TimerJob.gave_up_at.is_(None),
            TimerJob.due_at <= now,
            or_(TimerJob.lease_until.is_(None), TimerJob.lease_until < now),
        )
        .order_by(TimerJob.due_at)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(TimerJob)
        .where(TimerJob.id.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + LEASE, attempts=TimerJob.attempts + 1)
        .returning(TimerJob.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def fire_job(ctx, job_id: int, owner: str) -> bool:
    """Fire one leased job inside the caller's transaction; False when the lease was lost."""
    job = ctx.db.first(_JOB, {"job_id": job_id})
    if job is None:
        return False
    instance_id, task_uuid, spec_name, due_at, fired_at, lease_owner = job
    if fired_at is not None or lease_owner != owner:
        return False
    instance, workflow = ctx.load(instance_id)
    task = workflow.get_task_from_id(UUID(task_uuid)) if instance.status == "running" else None
    # marked fired before the state is saved, so syncing the timer rows leaves this one alone
    ctx.db.run(_MARK_FIRED, {"job_id": job_id, "fired": ctx.now})
    if task is None or task.state != TaskState.WAITING:
        return True  # the process moved on since; nothing left to fire
    task._set_internal_data(event_fired=True)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    ctx.audit(instance.id, "timer_fired", None, timer=spec_name, due_at=due_at.isoformat())
    ctx.save(instance, workflow)
    return True


def back_off(session, job_id: int, now: datetime, reason: str) -> TimerJob:
    """Note a failed firing: lease the job until its next try, or park it once the tries ran out."""
    job = session.get(TimerJob, job_id)
    job.last_error = reason
    if job.attempts <= len(RETRY_DELAYS):
        job.lease_until = now + RETRY_DELAYS[job.attempts - 1]
    else:
        job.gave_up_at, job.lease_until = now, None
    return job


def rearm_given_up(session, instance_id: int, owner: str, now: datetime) -> list[int]:
    """Lease an instance's parked timer jobs to `owner` for an administrator's retry; return their ids."""
    found = session.execute(
        update(TimerJob)
        .where(TimerJob.instance_id == instance_id, TimerJob.gave_up_at.is_not(None))
        .where(TimerJob.fired_at.is_(None))
        .values(gave_up_at=None, lease_owner=owner, lease_until=now + LEASE, attempts=0)
        .returning(TimerJob.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(found.scalars())


@dataclass
class SweepResult:
    claimed: int = 0
    fired: int = 0
    failed: int = 0
