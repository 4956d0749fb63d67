"""Process commands: start, complete, return (退回), reject (不通过), withdraw (撤回), terminate."""

from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam
from sqlalchemy import select

from domain.accounts.users import Actor
from domain.text import clean_text
from engine.errors import InvalidCommand
from engine.errors import OpinionRequired
from engine.errors import TaskNotFound
from engine.errors import UnknownProcess
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.definitions import check_process_key
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.runtime.projection import close_task_row
from engine.runtime.statements import Prepared
from engine.runtime.store import NEXT_INSTANCE_ID
from engine.runtime.store import InstanceRecord
from engine.runtime.task_rows import open_rows
from engine.tasks import permissions
from engine.tasks.access import checked_task
from engine.tasks.access import finish_row
from engine.tasks.assignment import resolve_delegation
from engine.tasks.countersign import approve_in_turn
from engine.tasks.countersign import close_countersigns
from engine.tasks.start_data import check_start_data

SUBJECT_LENGTH = ProcessInstance.__table__.c.subject.type.length
_DEFINITIONS = ProcessDefinition.__table__
_NEWEST_QUERY = (
    select(_DEFINITIONS.c.id, _DEFINITIONS.c.name)
    .where(_DEFINITIONS.c.process_key == bindparam("process_key"))
    .order_by(_DEFINITIONS.c.version.desc())
    .limit(1)
)
_NEWEST = Prepared(_NEWEST_QUERY)
_NEWEST_AND_ID = Prepared(_NEWEST_QUERY.add_columns(NEXT_INSTANCE_ID))  # where ids come from a sequence


def start_instance(
    rt: Runtime,
    process_key: str,
    actor: Actor | None,
    data: dict | None = None,
    business_key: str | None = None,
    submit: dict | None = None,
) -> int:
    """Start the newest version of a process; with `submit`, also complete its first step in the same go."""

    def body(ctx: CommandContext) -> int:
        return start_in(ctx, process_key, data, business_key=business_key, submit=submit)

    return run_command(rt, "start", actor, body)


def start_in(
    ctx: CommandContext,
    process_key: str,
    data: dict | None = None,
    *,
    business_key: str | None = None,
    submit: dict | None = None,
    initiator: Actor | None = None,
) -> int:
    """Start the newest version of a process inside the caller's command; return the instance id.

    A service runs it after writing its own records in `ctx.session`, so the records and the
    instance they start commit together or not at all. `initiator` names who starts it when the
    command began without an actor (a registration's account exists only once its records do);
    it then acts for the rest of the command, in the audit trail too.
    """
    check_process_key(process_key)
    if initiator is not None:
        ctx.actor = initiator
    actor = ctx.actor
    definition_id, name, instance_id = newest_version(ctx.db, process_key)
    values = _start_values(actor, check_start_data(data))
    values["subject"] = clean_text(str(values.get("subject") or name), "subject", SUBJECT_LENGTH)
    workflow = ctx.new_workflow(definition_id)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(values)
    workflow.do_engine_steps()
    first = _submit_first_step(workflow, submit) if submit is not None else None
    # inserted only now, with its first state: one INSERT instead of an INSERT and an UPDATE
    instance = InstanceRecord(
        id=instance_id,
        definition_id=definition_id,
        process_key=process_key,
        business_key=business_key,
        initiator_id=actor.id if actor else None,
        subject=values["subject"],
        region_code=values.get("region_code"),
        created_at=ctx.now,
    )
    ctx.save_new(instance, workflow)
    ctx.audit(instance.id, "start", None, business_key=business_key)
    if first is not None:
        ctx.audit(instance.id, "submit", None, step=first)
    return instance.id


def complete_task(
    rt: Runtime,
    actor: Actor,
    task_id: int,
    data: dict | None = None,
    opinion: str = "",
    action: str = "approve",
) -> None:
    """Finish a task with its form data and an opinion (通过, or the step's own decision)."""
    replay = {"task_id": task_id, "actor_id": actor.id, "data": data, "opinion": opinion, "action": action}

    def body(ctx: CommandContext) -> None:
        complete_in(ctx, task_id, data, opinion, action)

    run_command(rt, "complete", actor, body, task_id, replay=replay)


def complete_in(ctx: CommandContext, task_id: int, data: dict | None, opinion: str, action: str) -> None:
    """Finish a task as `ctx.actor` inside the caller's command (a retry replays a failed completion)."""
    actor = ctx.actor
    row, standing = checked_task(ctx, task_id, "approve", with_instance=True)
    permissions.require_opinion(standing, "approve", opinion)
    if row.owner_id is not None:
        resolve_delegation(ctx, row, opinion)
        return
    if approve_in_turn(ctx, row, data, opinion):  # a countersign (加签) holds the step open
        return
    instance, workflow = ctx.load(row.instance_id)
    task = workflow.get_task_from_id(UUID(row.task_uuid))
    task.data.update(data or {})
    task.data.update(
        decision=action, last_actor_id=actor.id, last_actor_organisation_id=actor.organisation_id
    )
    if opinion:
        task.data["last_opinion"] = opinion
    finish_row(ctx, row, "done", action)
    task.run()
    workflow.do_engine_steps()
    _follow_subject(instance, workflow, data)
    ctx.audit(instance.id, action, row, opinion)
    ctx.save(instance, workflow)


def _follow_subject(instance, workflow, data: dict | None) -> None:
    """A corrected application renames its process and its next steps: the subject it submitted, or
    the one its diagram computed on the way (a script task that names the filing after its new title)."""
    subject = (data or {}).get("subject")
    if not subject:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        subject = ready[0].data.get("subject") if ready else None
    if subject and subject != instance.subject:
        instance.subject = clean_text(str(subject), "subject", SUBJECT_LENGTH)


def return_task(rt: Runtime, actor: Actor, task_id: int, opinion: str, to_step: str | None = None) -> str:
    """Send the process back to an earlier step (the applicant's by default), with a reason (退回)."""

    def body(ctx: CommandContext) -> str:
        row, standing = checked_task(ctx, task_id, "return", with_instance=True)
        permissions.require_opinion(standing, "return", opinion)
        close_countersigns(ctx, row)
        instance, workflow = ctx.load(row.instance_id)
        target = _return_target(workflow, to_step)
        data = dict(target.data)
        data.update(return_reason=opinion, returned_by=ctx.actor_name)
        finish_row(ctx, row, "done", "return")
        _rewind(workflow, target, data)
        ctx.audit(instance.id, "return", row, opinion, to_step=target.task_spec.bpmn_id)
        ctx.save(instance, workflow)
        return target.task_spec.bpmn_id

    return run_command(rt, "return", actor, body, task_id)


def reject_task(rt: Runtime, actor: Actor, task_id: int, opinion: str) -> None:
    """Refuse the application (不通过): the process ends here."""

    def body(ctx: CommandContext) -> None:
        row, standing = checked_task(ctx, task_id, "reject", with_instance=True)
        permissions.require_opinion(standing, "reject", opinion)
        close_countersigns(ctx, row)
        instance, workflow = ctx.load(row.instance_id)
        finish_row(ctx, row, "done", "reject")
        _end_instance(ctx, instance, workflow, "rejected")
        ctx.audit(instance.id, "reject", row, opinion)

    run_command(rt, "reject", actor, body, task_id)


def withdraw_instance(rt: Runtime, actor: Actor, instance_id: int, opinion: str = "") -> None:
    """Let the applicant take back a pending application where every open step allows it (撤回)."""

    def body(ctx: CommandContext) -> None:
        instance, workflow = ctx.load(instance_id)
        rows = open_rows(ctx.db, instance_id)
        withdrawable = bool(rows) and all("withdraw" in r.allowed_actions.split(",") for r in rows)
        reason = permissions.withdraw_refusal(actor, instance.initiator_id, instance.status, withdrawable)
        if reason is not None:
            permissions.refuse(reason, "withdraw", instance_id)
        _end_instance(ctx, instance, workflow, "withdrawn")
        ctx.audit(instance_id, "withdraw", None, opinion)

    run_command(rt, "withdraw", actor, body)


def terminate_instance(rt: Runtime, actor: Actor, instance_id: int, opinion: str) -> None:
    """End a process at once (administrators only), with the reason recorded."""

    def body(ctx: CommandContext) -> None:
        terminate_in(ctx, instance_id, opinion)

    run_command(rt, "terminate", actor, body)


def terminate_in(ctx: CommandContext, instance_id: int, opinion: str) -> None:
    """End a process at once inside the caller's command (an administrator ending a failed instance)."""
    status = ctx.session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
    if status is None:
        raise TaskNotFound(instance_id)
    reason = permissions.terminate_refusal(ctx.actor, status)
    if reason is not None:
        permissions.refuse(reason, "terminate", instance_id)
    if not (opinion or "").strip():  # a process ends for a stated reason, whatever its steps say
        raise OpinionRequired("terminate")
    instance, workflow = ctx.load(instance_id)
    _end_instance(ctx, instance, workflow, "terminated")
    ctx.audit(instance_id, "terminate", None, opinion)


def _start_values(actor: Actor | None, data: dict | None) -> dict:
    """Return the start data with who started the process filled in."""
    values = dict(data or {})
    if actor is not None:
        values.setdefault("initiator_id", actor.id)
        values.setdefault("initiator_name", actor.name)
        values.setdefault("region_code", actor.region_code)
    return values


def _submit_first_step(workflow, data: dict) -> str:
    """Complete the applicant's first step with what they filled in, in the start's transaction."""
    first = next(workflow.get_tasks_iterator(state=TaskState.READY, manual=True), None)
    if first is None:
        raise InvalidCommand("no_first_step")
    first.data.update(data)
    first.data["decision"] = "approve"
    first.run()
    workflow.do_engine_steps()
    return first.task_spec.bpmn_id


def newest_version(db, process_key: str) -> tuple[int, str, int | None]:
    """Return the id and name of a process key's newest version, reading no diagram text.

    Where instance ids come from a sequence (PostgreSQL) the same statement draws the new
    instance's id too: its INSERT then needs no answer and goes with the command's other writes.
    Else the id is None and the INSERT returns it.
    """
    numbered = db.dialect.name == "postgresql"
    found = db.first(_NEWEST_AND_ID if numbered else _NEWEST, {"process_key": process_key})
    if found is None:
        raise UnknownProcess(process_key)
    return found[0], found[1], found[2] if numbered else None


def _rewind(workflow, target, data: dict) -> None:
    """Reset the workflow to an earlier task; drop the removed waiting events SpiffWorkflow keeps tracking."""
    for removed in workflow.reset_from_task_id(target.id, data):
        workflow.event_manager.remove_task(removed)
    workflow.do_engine_steps()


def _end_instance(ctx: CommandContext, instance, workflow, status: str) -> None:
    workflow.cancel()
    for row in open_rows(ctx.db, instance.id):
        close_task_row(ctx, row, "cancelled")
    instance.status = status
    instance.ended_at = ctx.now
    hook = ctx.rt.end_hooks.get(instance.process_key)
    if hook is not None:
        hook(ctx.session, dict(workflow.last_task.data if workflow.last_task else {}), status, now=ctx.now)
    ctx.save(instance, workflow)


def _return_target(workflow, to_step: str | None):
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED, manual=True)]
    if not done:
        raise InvalidCommand("no_earlier_step")
    if to_step is None:
        return done[0]
    matches = [t for t in done if t.task_spec.bpmn_id == to_step]
    if not matches:
        steps = ", ".join(dict.fromkeys(t.task_spec.bpmn_id for t in done))
        raise InvalidCommand("not_an_earlier_step", step=to_step, steps=steps)
    return matches[-1]
