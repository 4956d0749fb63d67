"""Timer jobs: rows for waiting timer events, claimed by lease and fired exactly once by the sweep."""

import logging
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from engine.models import TimerJob
from engine.scripting import timer_due

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


def sync_timer_jobs(ctx, instance, workflow) -> None:
    """Make the timer_job rows of an instance match its waiting timer events."""
    waiting = {}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            due = timer_due(task)
            if due is not None:
                waiting[str(task.id)] = (task, due)
    existing = set(
        ctx.session.execute(
            select(TimerJob.task_uuid).where(TimerJob.instance_id == instance.id, TimerJob.fired_at.is_(None))
        ).scalars()
    )
    gone = existing - waiting.keys()
    if gone:
        ctx.session.execute(delete(TimerJob).where(TimerJob.task_uuid.in_(gone), TimerJob.fired_at.is_(None)))
    for uuid, (task, due) in waiting.items():
        if uuid not in existing:
            kind = "boundary" if type(task.task_spec).__name__ == "BoundaryEvent" else "catch"
            ctx.session.add(
                TimerJob(
                    instance_id=instance.id,
                    task_uuid=uuid,
                    spec_name=task.task_spec.bpmn_id,
                    kind=kind,
                    due_at=due,
                )
            )


def claim_due_jobs(session, now: datetime, owner: str, limit: int) -> list[int]:
    """Lease up to `limit` due, unfired jobs whose lease is free; safe with several sweepers at once."""
    due = (
        select(TimerJob.id)
        .where(
            TimerJob.fired_at.is_(None),
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
    job = ctx.session.get(TimerJob, job_id)
    if job is None or job.fired_at is not None or job.lease_owner != owner:
        return False
    instance, workflow = ctx.load(job.instance_id)
    task = workflow.get_task_from_id(UUID(job.task_uuid)) if instance.status == "running" else None
    job.fired_at = ctx.now
    job.last_error = None
    if task is None or task.state != TaskState.WAITING:
        return True  # the process moved on since; nothing left to fire
    task._set_internal_data(event_fired=True)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    ctx.audit(instance.id, "timer_fired", None, timer=job.spec_name, due_at=job.due_at.isoformat())
    ctx.save(instance, workflow)
    return True


@dataclass
class SweepResult:
    claimed: int = 0
    fired: int = 0
    failed: int = 0
