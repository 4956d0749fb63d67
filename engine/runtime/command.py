"""Run a command as one transaction; lost races and engine faults become clear errors."""

from collections.abc import Callable

from sqlalchemy import update

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
):
    """Run `body(ctx)` in one transaction; turn lost races and engine faults into clear errors.

    `refusals` are the errors the body raises on purpose (a service's own rule refusing the
    command, e.g. a taken username): they roll the transaction back and reach the caller unchanged.
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
            _record_incident(rt, instance_id, name, reason)
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


def _record_incident(rt: Runtime, instance_id: int, command: str, reason: str) -> None:
    with unit_of_work(rt) as session:
        session.add(Incident(instance_id=instance_id, command=command, message=reason, created_at=rt.clock()))
        session.execute(
            update(ProcessInstance).where(ProcessInstance.id == instance_id).values(status="running")
        )


def describe_fault(fault: Exception) -> str:
    """Return an engine fault as one readable line: its kind and its message, and the cause it wraps.

    SpiffWorkflow wraps a script's own error ("Error evaluating expression ..."): the cause says why.
    """
    text = str(fault).strip() or type(fault).__name__
    cause = fault.__cause__ or fault.__context__
    if cause is not None and str(cause).strip() and str(cause) not in text:
        text = f"{text}: {type(cause).__name__}: {str(cause).strip()}"
    return f"{type(fault).__name__}: {text}"
