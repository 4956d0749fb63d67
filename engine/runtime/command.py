"""Run a command as one transaction; lost races and engine faults become clear errors."""

import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from engine.errors import EngineError
from engine.errors import StepFailed
from engine.errors import TaskAlreadyHandled
from engine.runtime import Runtime
from engine.runtime import transaction
from engine.runtime import unit_of_work
from engine.runtime.context import CommandContext
from engine.runtime.models import HumanTask
from engine.runtime.models import Incident
from engine.runtime.models import ProcessInstance
from engine.runtime.store import VersionConflict
from engine.runtime.task_rows import assignee_name


def run_command(
    rt: Runtime,
    name: str,
    actor: Actor | None,
    body: Callable,
    task_id: int | None = None,
    refusals: tuple[type[Exception], ...] = (),
    replay: dict | None = None,
):
    """Run `body(ctx)` in one transaction; turn lost races and engine faults into clear errors.

    `refusals` are the errors the body raises on purpose (a service's own rule refusing the
    command, e.g. a taken username): they roll the transaction back and reach the caller unchanged.
    `replay` is the command's input, kept on the incident a fault records so a retry can run it again.
    """
    ctx = None
    try:
        with transaction(rt) as db:
            ctx = CommandContext(rt, db, actor)
            return body(ctx)
    except VersionConflict as conflict:
        raise _already_handled(rt, task_id) from conflict
    except EngineError:
        raise
    except refusals:
        raise
    except Exception as fault:  # SpiffWorkflow raises bare exceptions too; none may become a 500
        instance_id = ctx.loaded_instance_id if ctx else None
        reason = describe_fault(fault)
        if instance_id is not None:
            _record_incident(
                rt, instance_id, name, reason, replay, failed_step(fault) or (ctx and ctx.operation_step)
            )
        raise StepFailed(instance_id, reason) from fault


def _already_handled(rt: Runtime, task_id: int | None) -> TaskAlreadyHandled:
    if task_id is None:
        return TaskAlreadyHandled(None)
    with unit_of_work(rt, write=False) as session:
        row = session.get(HumanTask, task_id)
        if row is None:
            return TaskAlreadyHandled(None)
        return TaskAlreadyHandled(
            row.completed_by_name or assignee_name(session, row.assignee_id), row.completed_at
        )


def _record_incident(
    rt: Runtime, instance_id: int, command: str, reason: str, replay: dict | None, step: str | None
) -> None:
    with unit_of_work(rt) as session:
        note_incident(session, instance_id, command, reason, rt.clock(), replay, step)
        session.execute(
            update(ProcessInstance).where(ProcessInstance.id == instance_id).values(status="running")
        )


def note_incident(
    session: Session,
    instance_id: int,
    command: str,
    reason: str,
    now,
    replay: dict | None = None,
    step: str | None = None,
) -> None:
    """Record a failed step on its instance: one more try of its open incident, or a new incident.

    An instance keeps one open incident: a step failing again (a retry, the user trying once more, the
    next timer sweep) counts a try and says the newest error, rather than piling up rows.
    """
    replay = _storable(replay)
    incident = session.scalars(
        select(Incident).where(Incident.instance_id == instance_id, Incident.state == "open").limit(1)
    ).first()
    if incident is None:
        session.add(
            Incident(
                instance_id=instance_id,
                command=command,
                message=reason,
                created_at=now,
                replay=replay,
                step=step,
            )
        )
        return
    incident.tries += 1
    incident.message = reason
    incident.step = step or incident.step
    if replay is not None:  # the user ran the command again: retry their latest input
        incident.command, incident.replay = command, replay


def failed_step(fault: Exception) -> str | None:
    """Return the name of the diagram step a SpiffWorkflow fault names (its `task`), or None."""
    task = getattr(fault, "task", None)
    spec = getattr(task, "task_spec", None)
    if spec is None:
        return None
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name
    return str(name)[:255]


def _storable(replay: dict | None) -> dict | None:
    """Return the replay as JSON keeps it (dates as text), or None when it cannot be kept."""
    if replay is None:
        return None
    try:
        return json.loads(json.dumps(replay, default=str))
    except (TypeError, ValueError):
        return None


def describe_fault(fault: Exception) -> str:
    """Return an engine fault as one readable line: its kind and its message, and the cause it wraps.

    SpiffWorkflow wraps a script's own error ("Error evaluating expression ..."): the cause says why.
    """
    text = str(fault).strip() or type(fault).__name__
    cause = fault.__cause__ or fault.__context__
    if cause is not None and str(cause).strip() and str(cause) not in text:
        text = f"{text}: {type(cause).__name__}: {str(cause).strip()}"
    return f"{type(fault).__name__}: {text}"
