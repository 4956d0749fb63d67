"""What the task page shows, computed in the view and handed to the template: no queries from templates."""

from dataclasses import dataclass

from flask import current_app

from domain import attachments
from domain.accounts import colleagues
from domain.calendar.deadlines import china_day
from engine.inbox.applications import Decision
from engine.inbox.applications import ending
from engine.inbox.queries import TaskDetail
from engine.inbox.queries import due_status
from engine.runtime.definitions import specs_for
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.tasks import countersign as countersign_records
from engine.tasks.approvers import Approver
from engine.tasks.approvers import reassign_choices
from engine.tasks.permissions import TaskPermissions
from engine.tasks.permissions import task_permissions
from webapp import confirmation
from webapp.application_view import application_rows
from webapp.application_view import application_warnings


@dataclass(frozen=True)
class TaskExtras:
    """What the task page shows besides the task and its permissions: files, people, due state."""

    attachments: list[attachments.AttachmentView]
    may_upload: bool
    accept: str
    max_mb: str
    colleagues: list[colleagues.Colleague]  # whom the task can be handed over to, countersigned or copied
    reassign_choices: list[Approver]
    countersigns: list[countersign_records.CountersignView]
    assignee_name: str | None
    owner_name: str | None
    due: str  # "overdue", "soon" or ""
    application: list[tuple[str, str]]  # the application's fields as (label, value)
    warnings: list[str]  # what in the application looks wrong, for whoever may decide on it
    ending: Decision | None  # who ended the process without approval, when and why (a closed step's page)
    process_name: str  # the diagram's name of the process (成绩报送), not its key


def task_page(rt, session, actor, detail: TaskDetail, now) -> dict:
    """Return the task page's permissions and extras for `render_template` (task_detail proved visibility)."""
    item = detail.item
    perms = task_permissions(session, actor, item.id, now, _step_namer(rt, session))
    offers = perms.allowed & {"transfer", "delegate", "countersign", "copy"}
    names = colleagues.display_names(session, (item.assignee_id, detail.owner_id))
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    is_open = detail.state == "open"
    extras = TaskExtras(
        attachments=attachments.attachments_of(session, item.instance_id),
        may_upload=is_open and item.assignee_id == actor.id,
        accept=",".join(f".{extension}" for extension in attachments.ALLOWED_EXTENSIONS),
        max_mb=f"{limit / 2**20:g}",
        colleagues=colleagues.colleagues_of(session, actor) if offers else [],
        reassign_choices=reassign_choices(session, item.id) if perms.may("reassign") else [],
        countersigns=countersign_records.countersigns_of(session, item.id) if is_open else [],
        assignee_name=names.get(item.assignee_id),
        owner_name=names.get(detail.owner_id),
        due=(due_status(item.due_at, now) or "") if is_open else "",
        application=application_rows(session, detail.data),
        warnings=application_warnings(session, detail.data, china_day(now)) if detail.may_act else [],
        ending=ending(session, item.instance_id) if detail.state == "cancelled" else None,
        process_name=_process_name(session, item.instance_id) or item.process_key,
    )
    return {
        "perms": perms,
        "extras": extras,
        "reject_message": confirmation.reject_message(item.subject),
        "terminate_message": confirmation.terminate_message(item.subject),
    }


def _process_name(session, instance_id: int) -> str | None:
    """Return the name of the process version the instance runs."""
    definition = session.get(ProcessDefinition, session.get(ProcessInstance, instance_id).definition_id)
    return definition.name if definition is not None else None


def _step_namer(rt, session):
    """Name a step from its instance's parsed diagram (cached per version): a first step has no row."""

    def name(instance_id: int, bpmn_id: str) -> str | None:
        definition_id = session.get(ProcessInstance, instance_id).definition_id
        spec = specs_for(rt, session, definition_id).spec.task_specs.get(bpmn_id)
        return getattr(spec, "bpmn_name", None) if spec is not None else None

    return name


__all__ = ["TaskExtras", "TaskPermissions", "task_page"]
