"""The applicant's view of their applications (我的申请): one application with its state, and why it ended.

Only the applicant (the instance's initiator) reads an application here: anyone else is told it does
not exist, whatever id they guess. Reviewers read the same instance through its task pages.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from engine.errors import TaskNotFound
from engine.inbox.queries import CurrentStep
from engine.inbox.queries import HistoryEntry
from engine.inbox.queries import audit_trail
from engine.inbox.queries import current_steps
from engine.runtime import Runtime
from engine.runtime.definitions import specs_for
from engine.runtime.models import OPEN
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.runtime.store import load_workflow
from engine.tasks.permissions import withdraw_reason

# the audit actions that say why an application stands where it does, the latest one counting
DECIDING = ("return", "reject", "terminate", "withdraw", "approve", "resubmit")


@dataclass(frozen=True)
class Decision:
    """The last decision on an application: what was done, by whom, when, and the opinion given."""

    action: str
    actor_name: str
    at: datetime
    opinion: str


@dataclass(frozen=True)
class ApplicationDetail:
    """One of the actor's applications: its state, its data, its open steps and what the applicant may do."""

    instance_id: int
    process_key: str
    process_name: str
    subject: str
    status: str
    business_key: str | None
    created_at: datetime
    ended_at: datetime | None
    data: dict
    steps: tuple[CurrentStep, ...]
    history: list[HistoryEntry]
    correction_task_id: int | None  # the returned step the applicant now holds (修改后重新提交)
    withdraw_refused: str | None  # None when the applicant may withdraw it now
    last_decision: Decision | None


def application_detail(rt: Runtime, session: Session, actor: Actor, instance_id: int) -> ApplicationDetail:
    """Return one of the actor's own applications, or raise TaskNotFound."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.initiator_id != actor.id:
        raise TaskNotFound(instance_id)
    definition = session.get(ProcessDefinition, instance.definition_id)
    parsed = specs_for(rt, session, instance.definition_id)
    workflow = load_workflow(instance.state, parsed.spec, parsed.subprocess_specs, None)
    data = dict(workflow.last_task.data) if workflow.last_task is not None else dict(workflow.data)
    correction = session.scalar(
        select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == OPEN, HumanTask.assignee_id == actor.id
        )
    )
    return ApplicationDetail(
        instance_id=instance.id,
        process_key=instance.process_key,
        process_name=definition.name,
        subject=instance.subject,
        status=instance.status,
        business_key=instance.business_key,
        created_at=instance.created_at,
        ended_at=instance.ended_at,
        data=data,
        steps=current_steps(session, [instance_id]).get(instance_id, ()),
        history=audit_trail(session, instance_id),
        correction_task_id=correction,
        withdraw_refused=withdraw_reason(session, actor, instance_id),
        last_decision=last_decision(session, instance_id),
    )


def last_decision(session: Session, instance_id: int) -> Decision | None:
    """Return the latest decision recorded on an instance, or None before any."""
    found = session.execute(
        select(AuditEvent.action, AuditEvent.actor_name, AuditEvent.created_at, AuditEvent.opinion)
        .where(AuditEvent.instance_id == instance_id, AuditEvent.action.in_(DECIDING))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    return Decision(found[0], found[1] or "—", found[2], found[3] or "") if found else None


def ending(session: Session, instance_id: int) -> Decision | None:
    """Return who ended an instance that did not complete (rejected, withdrawn, terminated), when and why."""
    found = last_decision(session, instance_id)
    return found if found is not None and found.action in ("reject", "terminate", "withdraw") else None


@dataclass(frozen=True)
class ApplicationState:
    """Where the newest application under a business key stands, for an applicant who cannot sign in."""

    instance_id: int
    subject: str
    status: str
    created_at: datetime
    decision: Decision | None


def application_state(session: Session, business_key: str) -> ApplicationState | None:
    """Return the state of the newest application under a business key (e.g. an organisation's)."""
    found = session.execute(
        select(
            ProcessInstance.id, ProcessInstance.subject, ProcessInstance.status, ProcessInstance.created_at
        )
        .where(ProcessInstance.business_key == business_key)
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    return ApplicationState(*found, last_decision(session, found[0]))


def business_key_of_task(session: Session, task_id: int) -> str | None:
    """Return the business key of a task's instance (which record an application is about)."""
    return session.scalar(
        select(ProcessInstance.business_key)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
        .where(HumanTask.id == task_id)
    )
