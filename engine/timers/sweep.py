"""The timer sweep: claim due jobs, fire each in its own transaction."""

import logging

from engine.runtime import Runtime
from engine.runtime import transaction
from engine.runtime import unit_of_work
from engine.runtime.command import describe_fault
from engine.runtime.command import note_incident
from engine.runtime.context import CommandContext
from engine.runtime.timer_jobs import SweepResult
from engine.runtime.timer_jobs import back_off
from engine.runtime.timer_jobs import claim_due_jobs
from engine.runtime.timer_jobs import fire_job

log = logging.getLogger(__name__)


def sweep_timers(rt: Runtime, owner: str | None = None, limit: int = 200) -> SweepResult:
    """Claim due timer jobs and fire each in its own transaction; a failure is retried after a backoff."""
    owner = owner or rt.node_name
    result = SweepResult()
    with unit_of_work(rt) as session:
        job_ids = claim_due_jobs(session, rt.clock(), owner, limit)
    result.claimed = len(job_ids)
    for job_id in job_ids:
        try:
            with transaction(rt) as db:  # the ORM session is made only if the firing needs it
                if fire_job(CommandContext(rt, db, None), job_id, owner):
                    result.fired += 1
        except Exception as fault:  # one bad instance must not stop the sweep
            result.failed += 1
            _note_timer_failure(rt, job_id, describe_fault(fault))
    return result


def _note_timer_failure(rt: Runtime, job_id: int, reason: str) -> None:
    """Keep the error and the next try's time; an incident for the administrator once tries ran out."""
    with unit_of_work(rt) as session:
        now = rt.clock()
        job = back_off(session, job_id, now, reason)
        if job.gave_up_at is not None:
            note_incident(session, job.instance_id, "timer", reason, now, step=job.spec_name)
        else:
            log.warning(
                "timer job %s failed (try %s), tried again at %s: %s",
                job_id,
                job.attempts,
                job.lease_until,
                reason,
            )
