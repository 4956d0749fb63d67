"""Project every READY user task into the inbox tables, in the same transaction as the state."""

from datetime import UTC
from datetime import datetime

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete
from sqlalchemy import select

from engine.models import HumanTask
from engine.models import HumanTaskCandidate
from engine.runtime import Candidates

NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)
DEFAULT_ACTIONS = "approve,return,reject,transfer,delegate"


def project_tasks(ctx, instance, workflow) -> None:
    """Insert rows for new READY user tasks, re-resolve escalated ones, close the ones gone."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    open_rows = ctx.session.execute(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
    ).scalars()
    for row in open_rows:
        task = ready.pop(row.task_uuid, None)
        if task is None:
            close_task_row(ctx, row, "cancelled")
            continue
        _apply_rungs(ctx, instance, row, task)
    for task in ready.values():
        _insert_row(ctx, instance, task)


def close_task_row(ctx, row: HumanTask, state: str, outcome: str | None = None) -> None:
    """Mark a task row finished and drop it from every queue."""
    row.state = state
    row.outcome = outcome or row.outcome
    row.completed_at = row.completed_at or ctx.now
    sync_queue(ctx.session, row)


def _insert_row(ctx, instance, task) -> HumanTask:
    properties = task.task_spec.extensions.get("properties", {})
    level = task._get_internal_data("escalation_level", 0)
    rule = properties.get("candidates") or task.task_spec.lane
    candidates = resolve_candidates(ctx, rule, task, level)
    due = _due_at(ctx, task, properties.get("due"))
    row = HumanTask(
        task_uuid=str(task.id),
        instance_id=instance.id,
        process_key=instance.process_key,
        spec_name=task.task_spec.bpmn_id,
        name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
        form_key=properties.get("formKey", ""),
        candidate_rule=rule,
        allowed_actions=properties.get("actions", DEFAULT_ACTIONS),
        subject=instance.subject,
        region_code=instance.region_code,
        priority=int(properties.get("priority", 50)),
        escalation_level=level,
        created_at=ctx.now,
        due_at=due,
        due_sort=due or NO_DUE_DATE,
    )
    ctx.session.add(row)
    ctx.session.flush()
    _set_candidates(ctx, row, candidates)
    return row


def _set_candidates(ctx, row: HumanTask, candidates: Candidates) -> None:
    row.candidates = " ".join(candidates.principals())
    row.assignee_id = candidates.users[0] if len(candidates.users) == 1 and not candidates.groups else None
    sync_queue(ctx.session, row)


def sync_queue(session, row: HumanTask) -> None:
    """Offer an open, unassigned task to its candidates' queues; take it off them otherwise."""
    session.execute(delete(HumanTaskCandidate).where(HumanTaskCandidate.human_task_id == row.id))
    if row.state == "open" and row.assignee_id is None:
        session.add_all(
            HumanTaskCandidate(human_task_id=row.id, principal=p, due_sort=row.due_sort)
            for p in row.candidates.split()
        )


def _apply_rungs(ctx, instance, row: HumanTask, task) -> None:
    """Carry a fired reminder or escalation from the workflow into the inbox and the notice centre."""
    if task._get_internal_data("remind_pending", False):
        task.internal_data.pop("remind_pending", None)
        recipients = [f"u:{row.assignee_id}"] if row.assignee_id else row.candidates.split()
        ctx.notify(recipients, "reminder", f"待办即将到期：{row.name}", row.subject, instance.id, row.id)
        ctx.audit(instance.id, "remind", row, recipients=recipients)
    level = task._get_internal_data("escalation_level", 0)
    if level == row.escalation_level:
        return
    candidates = resolve_candidates(ctx, row.candidate_rule, task, level)
    row.escalation_level = level
    _set_candidates(ctx, row, candidates)
    ctx.notify(
        candidates.principals(), "escalation", f"督办升级：{row.name}", row.subject, instance.id, row.id
    )
    ctx.audit(instance.id, "escalate", row, level=level, to=candidates.principals())


def resolve_candidates(ctx, rule: str, task, level: int) -> Candidates:
    """Ask the task's candidate rule who may work it at this escalation level."""
    groups, users = ctx.rt.candidate_rules[rule](ctx.session, dict(task.data), level)
    return Candidates(tuple(groups), tuple(int(u) for u in users))


def _due_at(ctx, task, expression: str | None) -> datetime | None:
    if not expression:
        return None
    value = task.workflow.script_engine.evaluate(task, expression)
    due = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return due if due.tzinfo else due.astimezone()
