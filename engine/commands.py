"""Runtime commands: each one transaction through the unit of work, each leaving an audit event."""

from collections.abc import Callable
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain.accounts import Actor
from domain.accounts import User
from engine.context import CommandContext
from engine.definitions import latest_definition
from engine.errors import EngineError
from engine.errors import InvalidCommand
from engine.errors import NotAllowed
from engine.errors import StepFailed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound
from engine.models import HumanTask
from engine.models import Incident
from engine.models import ProcessInstance
from engine.models import TimerJob
from engine.projection import close_task_row
from engine.projection import sync_queue
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.store import VersionConflict
from engine.timers import SweepResult
from engine.timers import claim_due_jobs
from engine.timers import fire_job


def run_command(rt: Runtime, name: str, actor: Actor | None, body: Callable, task_id: int | None = None):
    """Run `body(ctx)` in one transaction; turn lost races and engine faults into clear errors."""
    ctx = None
    try:
        with unit_of_work(rt) as session:
            ctx = CommandContext(rt, session, actor)
            return body(ctx)
    except VersionConflict as conflict:
        raise _already_handled(rt, task_id) from conflict
    except EngineError:
        raise
    except Exception as fault:  # SpiffWorkflow raises bare exceptions too; none may become a 500
        instance_id = ctx.loaded_instance_id if ctx else None
        reason = _describe(fault)
        if instance_id is not None:
            _record_incident(rt, instance_id, name, reason)
        raise StepFailed(instance_id, reason) from fault


def start_instance(
    rt: Runtime,
    process_key: str,
    actor: Actor | None,
    data: dict | None = None,
    business_key: str | None = None,
) -> int:
    """Start the newest version of a process with the initiator's data; return the instance id."""

    def body(ctx: CommandContext) -> int:
        definition = latest_definition(ctx.session, process_key)
        values = dict(data or {})
        if actor is not None:
            values.setdefault("initiator_id", actor.id)
            values.setdefault("initiator_name", actor.name)
            values.setdefault("region_code", actor.region_code)
        instance = ProcessInstance(
            definition_id=definition.id,
            process_key=process_key,
            business_key=business_key,
            initiator_id=actor.id if actor else None,
            subject=str(values.get("subject") or definition.name),
            region_code=values.get("region_code"),
            state="{}",
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        ctx.session.add(instance)
        ctx.session.flush()
        workflow = ctx.new_workflow(definition.id)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(values)
        workflow.do_engine_steps()
        ctx.audit(instance.id, "start", None, business_key=business_key)
        ctx.save(instance, workflow)
        return instance.id

    return run_command(rt, "start", actor, body)


def claim_task(rt: Runtime, actor: Actor, task_id: int) -> None:
    """Take a queued task as one's own."""

    def body(ctx: CommandContext) -> None:
        row = _visible_open_task(ctx, task_id)
        if row.assignee_id == actor.id:
            return
        taken = ctx.session.execute(
            update(HumanTask)
            .where(HumanTask.id == row.id, HumanTask.state == "open", HumanTask.assignee_id.is_(None))
            .values(assignee_id=actor.id)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            raise TaskHeldByOther(_assignee_name(ctx.session, row.assignee_id))
        ctx.session.refresh(row)
        sync_queue(ctx.session, row)
        ctx.audit(row.instance_id, "claim", row)

    run_command(rt, "claim", actor, body, task_id)


def unclaim_task(rt: Runtime, actor: Actor, task_id: int) -> None:
    """Put one's claimed task back into its group queue."""

    def body(ctx: CommandContext) -> None:
        row = _visible_open_task(ctx, task_id)
        if row.assignee_id != actor.id:
            raise NotAllowed("Only the person holding a task can release it.")
        if row.candidates == f"u:{actor.id}":
            raise NotAllowed("This task is yours alone; there is no queue to release it to.")
        row.assignee_id = None
        sync_queue(ctx.session, row)
        ctx.audit(row.instance_id, "unclaim", row)

    run_command(rt, "unclaim", actor, body, task_id)


def complete_task(
    rt: Runtime,
    actor: Actor,
    task_id: int,
    data: dict | None = None,
    opinion: str = "",
    action: str = "approve",
) -> None:
    """Finish a task with its form data and an opinion (通过, or the step's own decision)."""

    def body(ctx: CommandContext) -> None:
        row = _workable_task(ctx, task_id, "approve")
        if row.owner_id is not None:
            _resolve_delegation(ctx, row, opinion)
            return
        instance, workflow = ctx.load(row.instance_id)
        task = workflow.get_task_from_id(UUID(row.task_uuid))
        task.data.update(data or {})
        task.data["decision"] = action
        if opinion:
            task.data["last_opinion"] = opinion
        _finish_row(ctx, row, "done", action)
        task.run()
        workflow.do_engine_steps()
        ctx.audit(instance.id, action, row, opinion)
        ctx.save(instance, workflow)

    run_command(rt, "complete", actor, body, task_id)


def return_task(rt: Runtime, actor: Actor, task_id: int, opinion: str, to_step: str | None = None) -> str:
    """Send the process back to an earlier step (the applicant's by default), with a reason (退回)."""

    def body(ctx: CommandContext) -> str:
        row = _workable_task(ctx, task_id, "return")
        _require_opinion(opinion, "退回")
        instance, workflow = ctx.load(row.instance_id)
        target = _return_target(workflow, to_step)
        data = dict(target.data)
        data.update(return_reason=opinion, returned_by=ctx.actor_name)
        _finish_row(ctx, row, "done", "return")
        _rewind(workflow, target, data)
        ctx.audit(instance.id, "return", row, opinion, to_step=target.task_spec.bpmn_id)
        ctx.save(instance, workflow)
        return target.task_spec.bpmn_id

    return run_command(rt, "return", actor, body, task_id)


def reject_task(rt: Runtime, actor: Actor, task_id: int, opinion: str) -> None:
    """Refuse the application (不通过): the process ends here."""

    def body(ctx: CommandContext) -> None:
        row = _workable_task(ctx, task_id, "reject")
        _require_opinion(opinion, "不通过")
        instance, workflow = ctx.load(row.instance_id)
        _finish_row(ctx, row, "done", "reject")
        _end_instance(ctx, instance, workflow, "rejected")
        ctx.audit(instance.id, "reject", row, opinion)

    run_command(rt, "reject", actor, body, task_id)


def transfer_task(rt: Runtime, actor: Actor, task_id: int, to_user_id: int, opinion: str = "") -> None:
    """Hand a task over to another approver for good (转办)."""

    def body(ctx: CommandContext) -> None:
        row = _workable_task(ctx, task_id, "transfer")
        if to_user_id == actor.id:
            raise InvalidCommand("A task cannot be transferred to yourself.")
        to_name = _assignee_name(ctx.session, to_user_id, required=True)
        row.assignee_id, row.owner_id = to_user_id, None
        sync_queue(ctx.session, row)
        ctx.notify(
            [f"u:{to_user_id}"], "transfer", f"转办给您：{row.name}", row.subject, row.instance_id, row.id
        )
        ctx.audit(row.instance_id, "transfer", row, opinion, to_user_id=to_user_id, to_name=to_name)

    run_command(rt, "transfer", actor, body, task_id)


def delegate_task(rt: Runtime, actor: Actor, task_id: int, to_user_id: int, opinion: str = "") -> None:
    """Ask another approver to work a task; it comes back to the delegator afterwards (委派)."""

    def body(ctx: CommandContext) -> None:
        row = _workable_task(ctx, task_id, "delegate")
        if row.owner_id is not None:
            raise InvalidCommand("A delegated task cannot be delegated again; resolve it first.")
        if to_user_id == actor.id:
            raise InvalidCommand("A task cannot be delegated to yourself.")
        to_name = _assignee_name(ctx.session, to_user_id, required=True)
        row.owner_id, row.assignee_id = actor.id, to_user_id
        sync_queue(ctx.session, row)
        ctx.notify(
            [f"u:{to_user_id}"], "delegate", f"委派给您：{row.name}", row.subject, row.instance_id, row.id
        )
        ctx.audit(row.instance_id, "delegate", row, opinion, to_user_id=to_user_id, to_name=to_name)

    run_command(rt, "delegate", actor, body, task_id)


def withdraw_instance(rt: Runtime, actor: Actor, instance_id: int, opinion: str = "") -> None:
    """Let the applicant take back a pending application where every open step allows it (撤回)."""

    def body(ctx: CommandContext) -> None:
        instance, workflow = ctx.load(instance_id)
        if instance.initiator_id != actor.id:
            raise TaskNotFound(instance_id)
        if instance.status != "running":
            raise InvalidCommand("Only a pending application can be withdrawn.")
        rows = _open_rows(ctx.session, instance_id)
        if not rows or any("withdraw" not in r.allowed_actions.split(",") for r in rows):
            raise NotAllowed("This application can no longer be withdrawn at its current step.")
        _end_instance(ctx, instance, workflow, "withdrawn")
        ctx.audit(instance_id, "withdraw", None, opinion)

    run_command(rt, "withdraw", actor, body)


def terminate_instance(rt: Runtime, actor: Actor, instance_id: int, opinion: str) -> None:
    """End a process at once (administrators only), with the reason recorded."""

    def body(ctx: CommandContext) -> None:
        if not actor.is_admin:
            raise NotAllowed("Only an administrator can terminate a process.")
        _require_opinion(opinion, "终止")
        instance, workflow = ctx.load(instance_id)
        if instance.status != "running":
            raise InvalidCommand("This process has already ended.")
        _end_instance(ctx, instance, workflow, "terminated")
        ctx.audit(instance_id, "terminate", None, opinion)

    run_command(rt, "terminate", actor, body)


def _rewind(workflow, target, data: dict) -> None:
    """Reset the workflow to an earlier task; drop the removed waiting events SpiffWorkflow keeps tracking."""
    for removed in workflow.reset_from_task_id(target.id, data):
        workflow.event_manager.remove_task(removed)
    workflow.do_engine_steps()


def _end_instance(ctx: CommandContext, instance, workflow, status: str) -> None:
    workflow.cancel()
    for row in _open_rows(ctx.session, instance.id):
        close_task_row(ctx, row, "cancelled")
    instance.status = status
    instance.ended_at = ctx.now
    ctx.save(instance, workflow)


def _finish_row(ctx: CommandContext, row: HumanTask, state: str, outcome: str) -> None:
    finished = ctx.session.execute(
        update(HumanTask)
        .where(HumanTask.id == row.id, HumanTask.state == "open")
        .values(
            state=state,
            outcome=outcome,
            completed_at=ctx.now,
            completed_by_id=ctx.actor.id,
            completed_by_name=ctx.actor.name,
            assignee_id=ctx.actor.id,
        )
        .execution_options(synchronize_session=False)
    )
    if finished.rowcount != 1:
        raise VersionConflict(row.instance_id)
    ctx.session.refresh(row)
    close_task_row(ctx, row, state, outcome)


def _resolve_delegation(ctx: CommandContext, row: HumanTask, opinion: str) -> None:
    owner = row.owner_id
    row.assignee_id, row.owner_id = owner, None
    ctx.notify([f"u:{owner}"], "delegate_back", f"委派已处理：{row.name}", opinion, row.instance_id, row.id)
    ctx.audit(row.instance_id, "resolve", row, opinion, back_to=owner)


def _visible_open_task(ctx: CommandContext, task_id: int) -> HumanTask:
    row = ctx.session.get(HumanTask, task_id)
    actor = ctx.actor
    if row is None or not _may_see(row, actor):
        raise TaskNotFound(task_id)
    if row.state != "open":
        raise TaskAlreadyHandled(row.completed_by_name, row.completed_at)
    return row


def _workable_task(ctx: CommandContext, task_id: int, action: str) -> HumanTask:
    row = _visible_open_task(ctx, task_id)
    actor = ctx.actor
    if row.assignee_id is not None and row.assignee_id != actor.id:
        raise TaskHeldByOther(_assignee_name(ctx.session, row.assignee_id))
    if action not in row.allowed_actions.split(",") and action != "approve":
        raise NotAllowed(f"This step does not allow '{action}'.")
    return row


def _may_see(row: HumanTask, actor: Actor) -> bool:
    if actor.is_admin or row.assignee_id == actor.id or row.owner_id == actor.id:
        return True
    return bool(set(row.candidates.split()) & set(actor.principals))


def _require_opinion(opinion: str, action: str) -> None:
    if not (opinion or "").strip():
        raise InvalidCommand(f"An opinion is required to {action} (请填写审批意见).")


def _return_target(workflow, to_step: str | None):
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED, manual=True)]
    if not done:
        raise InvalidCommand("There is no earlier step to return to.")
    if to_step is None:
        return done[0]
    matches = [t for t in done if t.task_spec.bpmn_id == to_step]
    if not matches:
        steps = ", ".join(dict.fromkeys(t.task_spec.bpmn_id for t in done))
        raise InvalidCommand(f"'{to_step}' is not an earlier step of this process (earlier steps: {steps}).")
    return matches[-1]


def _open_rows(session: Session, instance_id: int) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    return list(session.execute(query).scalars())


def _assignee_name(session: Session, user_id: int | None, required: bool = False) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    if required and (user is None or not user.active):
        raise InvalidCommand(f"User {user_id} does not exist or is not active.")
    return user.display_name if user else None


def _already_handled(rt: Runtime, task_id: int | None) -> TaskAlreadyHandled:
    if task_id is None:
        return TaskAlreadyHandled(None)
    with unit_of_work(rt, write=False) as session:
        row = session.get(HumanTask, task_id)
        if row is None:
            return TaskAlreadyHandled(None)
        return TaskAlreadyHandled(
            row.completed_by_name or _assignee_name(session, row.assignee_id), row.completed_at
        )


def _record_incident(rt: Runtime, instance_id: int, command: str, reason: str) -> None:
    with unit_of_work(rt) as session:
        session.add(Incident(instance_id=instance_id, command=command, message=reason, created_at=rt.clock()))
        session.execute(
            update(ProcessInstance).where(ProcessInstance.id == instance_id).values(status="running")
        )


def _describe(fault: Exception) -> str:
    text = str(fault).strip() or type(fault).__name__
    return f"{type(fault).__name__}: {text}"


def sweep_timers(rt: Runtime, owner: str | None = None, limit: int = 200) -> SweepResult:
    """Claim due timer jobs and fire each in its own transaction; a failure leaves the job for a retry."""
    owner = owner or rt.node_name
    result = SweepResult()
    with unit_of_work(rt) as session:
        job_ids = claim_due_jobs(session, rt.clock(), owner, limit)
    result.claimed = len(job_ids)
    for job_id in job_ids:
        try:
            with unit_of_work(rt) as session:
                if fire_job(CommandContext(rt, session, None), job_id, owner):
                    result.fired += 1
        except Exception as fault:  # one bad instance must not stop the sweep
            result.failed += 1
            _note_timer_failure(rt, job_id, _describe(fault))
    return result


def _note_timer_failure(rt: Runtime, job_id: int, reason: str) -> None:
    with unit_of_work(rt) as session:
        job = session.get(TimerJob, job_id)
        job.last_error = reason
        session.add(
            Incident(instance_id=job.instance_id, command="timer", message=reason, created_at=rt.clock())
        )
