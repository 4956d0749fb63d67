"""Project every READY user task into the inbox tables, in the same transaction as the state."""

from datetime import UTC
from datetime import datetime

from SpiffWorkflow.util.task import TaskState

from domain.calendar.deadlines import china_time
from engine.diagrams.settings import allowed_actions
from engine.diagrams.settings import opinion_required
from engine.runtime import Candidates
from engine.runtime.task_rows import CLOSE_COUNTERSIGNS
from engine.runtime.task_rows import INSERT_TASK
from engine.runtime.task_rows import TaskRow
from engine.runtime.task_rows import change_task
from engine.runtime.task_rows import holders
from engine.runtime.task_rows import offer_new
from engine.runtime.task_rows import sync_queue

NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


def project_tasks(ctx, instance, workflow, new: bool = False) -> None:
    """Insert rows for new READY user tasks, re-resolve escalated ones, close the ones gone."""
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    if not new:  # a new instance has no rows yet
        for row in ctx.open_rows(instance.id):
            task = ready.pop(row.task_uuid, None)
            if task is None:
                close_task_row(ctx, row, "cancelled")
                continue
            _apply_rungs(ctx, instance, row, task)
    for task in ready.values():
        _insert_row(ctx, instance, task)


def ready_user_tasks(workflow) -> list:
    """Return the READY user tasks of a workflow and its subprocesses, oldest first.

    Read from the task tables instead of `get_tasks(state=READY, manual=True)`, which walks the
    whole task tree through a filtering iterator: the same tasks at a fraction of the cost, and
    every command that saves runs this.
    """
    found = []
    for flow in (workflow, *workflow.subprocesses.values()):
        found.extend(t for t in flow.tasks.values() if t.state == TaskState.READY and t.task_spec.manual)
    return found


def close_task_row(ctx, row: TaskRow, state: str, outcome: str | None = None) -> None:
    """Mark a task row finished and drop it from every queue."""
    change_task(
        ctx.db, row, state=state, outcome=outcome or row.outcome, completed_at=row.completed_at or ctx.now
    )
    sync_queue(ctx.db, row)
    if state == "cancelled" and "countersign" in row.allowed_actions.split(","):
        # the added approvers' turns (加签) end with the step
        ctx.db.run(CLOSE_COUNTERSIGNS, {"task_id": row.id})


def _insert_row(ctx, instance, task) -> None:
    """Insert the row of a new READY task and offer it to its queues; candidates are resolved first."""
    properties = task.task_spec.extensions.get("properties", {})
    level = task._get_internal_data("escalation_level", 0)
    rule = properties.get("candidates") or task.task_spec.lane
    candidates = resolve_candidates(ctx, rule, task, level)
    due = _due_at(ctx, task, properties.get("due"))
    values = {
        "task_uuid": str(task.id),
        "instance_id": instance.id,
        "process_key": instance.process_key,
        "spec_name": task.task_spec.bpmn_id,
        "name": task.task_spec.bpmn_name or task.task_spec.bpmn_id,
        "form_key": properties.get("formKey", ""),
        "candidate_rule": rule,
        "candidates": " ".join(candidates.principals()),
        "assignee_id": sole_user(candidates),
        "allowed_actions": allowed_actions(properties),
        "opinion_required": opinion_required(properties),
        "subject": instance.subject,
        "region_code": instance.region_code,
        "priority": int(properties.get("priority", 50)),
        "escalation_level": level,
        "created_at": ctx.now,
        "due_at": due,
        "due_sort": due or NO_DUE_DATE,
    }
    ctx.db.run(INSERT_TASK, values)
    if values["assignee_id"] is None:
        offer_new(ctx.db, instance.id, values["task_uuid"], values["candidates"], values["due_sort"])


def sole_user(candidates: Candidates) -> int | None:
    """Return the one user a task goes straight to, when its candidates are that user alone."""
    return candidates.users[0] if len(candidates.users) == 1 and not candidates.groups else None


def _set_candidates(ctx, row: TaskRow, candidates: Candidates, **changes) -> None:
    principals = " ".join(candidates.principals())
    change_task(ctx.db, row, candidates=principals, assignee_id=sole_user(candidates), **changes)
    sync_queue(ctx.db, row)


def _apply_rungs(ctx, instance, row: TaskRow, task) -> None:
    """Carry a fired reminder or escalation from the workflow into the inbox and the notice centre."""
    if task._get_internal_data("remind_pending", False):
        task.internal_data.pop("remind_pending", None)
        recipients = holders(row)
        ctx.notify(recipients, "reminder", f"待办即将到期：{row.name}", row.subject, instance.id, row.id)
        ctx.audit(instance.id, "remind", row, recipients=recipients)
    level = task._get_internal_data("escalation_level", 0)
    if level == row.escalation_level:
        return
    candidates = resolve_candidates(ctx, row.candidate_rule, task, level)
    _set_candidates(ctx, row, candidates, escalation_level=level)
    ctx.notify(
        candidates.principals(), "escalation", f"督办升级：{row.name}", row.subject, instance.id, row.id
    )
    ctx.audit(instance.id, "escalate", row, level=level, to=candidates.principals())


def resolve_candidates(ctx, rule: str, task, level: int) -> Candidates:
    """Ask the task's candidate rule who may work it at this escalation level."""
    # most rules read the task's data only: their session is made if and when they query
    groups, users = ctx.rt.candidate_rules[rule](ctx.session_on_demand, dict(task.data), level)
    return Candidates(tuple(groups), tuple(int(u) for u in users))


def _due_at(ctx, task, expression: str | None) -> datetime | None:
    if not expression:
        return None
    value = task.workflow.script_engine.evaluate(task, expression)
    due = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return china_time(due)  # a naive time in a diagram is Beijing time, whatever the server's zone
