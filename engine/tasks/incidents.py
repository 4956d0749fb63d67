"""Incidents an administrator mends: the list, a retry of the failed step, or the instance ended.

A failing step rolls its command back, so the instance stays at its last good state: a failed
completion leaves the task open, a failed timer leaves its job for the next sweep. A retry runs the
failed command again on that state with the now-fixed handler or data: a completion is replayed
with the approver's own input while the task is still open; otherwise the workflow's pending engine
steps run. Instances stay on their diagram version: a corrected diagram deployed since is not used.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.accounts.users import actor_for
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import scope_for
from engine.errors import InvalidCommand
from engine.errors import TaskNotFound
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import Incident
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.runtime.timer_jobs import fire_job
from engine.runtime.timer_jobs import rearm_given_up
from engine.tasks import permissions
from engine.tasks.commands import complete_in
from engine.tasks.commands import terminate_in
from infra.keyset import Order
from infra.keyset import Page
from infra.keyset import clamp
from infra.keyset import cut
from infra.keyset import decode_cursor
from infra.keyset import order_by
from infra.keyset import ordered
from infra.keyset import seek

MAX_LIMIT = 100
NEWEST_FIRST: Order = ((Incident.id, True),)


@dataclass(frozen=True)
class IncidentItem:
    """One incident as the administrators' list shows it."""

    id: int
    instance_id: int
    process_name: str
    process_version: int
    subject: str
    instance_status: str
    step: str | None
    command: str
    message: str
    created_at: datetime
    tries: int
    state: str
    resolved_at: datetime | None


def incidents_for(
    session: Session, actor: Actor, after: str | None = None, limit: int = 30, state: str | None = None
) -> Page[IncidentItem]:
    """Return the incidents the actor may mend, newest first; raise NotVisible for a non-administrator.

    Raise BadCursor for a cursor this list did not hand out.
    """
    if not scope_for(session, actor).everything:
        raise NotVisible("incidents")
    values = decode_cursor(after, NEWEST_FIRST)
    limit = clamp(limit, MAX_LIMIT)
    query = (
        select(
            Incident.id,
            Incident.instance_id,
            ProcessDefinition.name,
            ProcessDefinition.version,
            ProcessInstance.subject,
            ProcessInstance.status,
            Incident.step,
            Incident.command,
            Incident.message,
            Incident.created_at,
            Incident.tries,
            Incident.state,
            Incident.resolved_at,
        )
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
    )
    if state is not None:
        query = query.where(Incident.state == state)
    if values is not None:
        query = query.where(seek(NEWEST_FIRST, values))
    rows = session.execute(
        ordered(query, NEWEST_FIRST).order_by(*order_by(NEWEST_FIRST)).limit(limit + 1)
    ).all()
    return Page(*cut(rows, limit, NEWEST_FIRST, lambda row: IncidentItem(*row)))


def retry_instance(rt: Runtime, actor: Actor, instance_id: int) -> None:
    """Run an instance's failed step again; resolve its open incidents, or count a try when it fails again."""

    def body(ctx: CommandContext) -> None:
        incidents = _open_incidents(ctx, instance_id, "retry")
        replay = incidents[-1].replay
        if replay and _task_still_open(ctx, replay.get("task_id")):
            _replay_completion(ctx, replay)
        elif timers := rearm_given_up(ctx.session, instance_id, ctx.rt.node_name, ctx.now):
            for job_id in timers:  # the timer whose tries ran out fires now, in this retry
                fire_job(ctx, job_id, ctx.rt.node_name)
        else:
            instance, workflow = ctx.load(instance_id)
            workflow.do_engine_steps()
            ctx.save(instance, workflow)
        _resolve(ctx, incidents, tried=True)
        ctx.audit(instance_id, "retry", None, incidents=[i.id for i in incidents])

    run_command(rt, "retry", actor, body)


def end_incident_instance(rt: Runtime, actor: Actor, instance_id: int, reason: str) -> None:
    """End an instance whose step failed, with a reason; its open incidents are resolved with it."""

    def body(ctx: CommandContext) -> None:
        incidents = _open_incidents(ctx, instance_id, "terminate")
        terminate_in(ctx, instance_id, reason)
        _resolve(ctx, incidents, tried=False)
        ctx.audit(instance_id, "end_incident", None, reason, incidents=[i.id for i in incidents])

    run_command(rt, "terminate", actor, body)


def _open_incidents(ctx: CommandContext, instance_id: int, action: str) -> list[Incident]:
    """Return the instance's open incidents, oldest first, once the actor may mend them."""
    if not ctx.actor.is_admin:
        permissions.refuse("admin_only", action, instance_id)
    status = ctx.session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
    if status is None:
        raise TaskNotFound(instance_id)
    if status != "running":
        permissions.refuse("process_ended", action, instance_id)
    incidents = list(
        ctx.session.scalars(
            select(Incident)
            .where(Incident.instance_id == instance_id, Incident.state == "open")
            .order_by(Incident.id)
        )
    )
    if not incidents:
        raise InvalidCommand("no_open_incident", instance_id=instance_id)
    return incidents


def _task_still_open(ctx: CommandContext, task_id) -> bool:
    row = ctx.task_row(task_id) if isinstance(task_id, int) else None
    return row is not None and row.state == "open"


def _replay_completion(ctx: CommandContext, replay: dict) -> None:
    """Complete the task again as the approver who tried it, with their input; the retry stays the admin's."""
    admin = ctx.actor
    approver = actor_for(ctx.session, replay["actor_id"])
    if approver is None:
        raise InvalidCommand("no_active_user", user_id=replay["actor_id"])
    ctx.actor = approver
    try:
        complete_in(ctx, replay["task_id"], replay.get("data"), replay.get("opinion") or "", replay["action"])
    finally:
        ctx.actor = admin


def _resolve(ctx: CommandContext, incidents: list[Incident], *, tried: bool) -> None:
    ctx.session.execute(
        update(Incident)
        .where(Incident.id.in_([i.id for i in incidents]))
        .values(
            state="resolved",
            resolved_at=ctx.now,
            resolved_by=ctx.actor.id,
            tries=Incident.tries + (1 if tried else 0),
        )
    )
