"""Task actions besides deciding: one set of rules for the task page and the JSON API."""

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from domain.accounts import colleagues
from engine.inbox import diagram_view
from engine.tasks import assignment
from engine.tasks import commands
from engine.tasks import countersign
from engine.tasks import countersign as countersign_records
from engine.tasks import urge
from engine.tasks import visibility
from engine.tasks.approvers import Approver
from engine.tasks.approvers import reassign_choices
from webapp.extensions import db
from webapp.inbox import runtime

ACTIONS = ("transfer", "delegate", "countersign", "reassign", "terminate", "urge")


@dataclass(frozen=True)
class SideActions:
    """What the task page offers besides deciding: countersign, reassign, terminate, urge."""

    countersigns: list[countersign_records.CountersignView]
    my_turn: countersign_records.CountersignView | None  # the viewer's own active countersign
    may_countersign: bool
    countersign_choices: list[colleagues.Colleague]
    reassign_choices: list[Approver]  # administrators only
    may_terminate: bool
    may_urge: bool
    urged_today: bool


class Refused(Exception):
    """The request is incomplete or breaks a page rule; the message is in the user's language."""


def run_task_action(actor, action: str, task_id: int, values: Mapping) -> None:
    """Check one action's input as the task page does, then run its command; TaskNotFound means 404."""
    opinion = str(values.get("opinion") or "").strip()
    handlers: dict[str, Callable] = {
        "transfer": _hand_over,
        "delegate": _hand_over,
        "countersign": _countersign,
        "reassign": _reassign,
        "terminate": _terminate,
        "urge": _urge,
    }
    handlers[action](actor, action, task_id, values, opinion)


def _user_id(values: Mapping) -> int:
    """Return the chosen user's id, or refuse the request."""
    raw = values.get("to_user_id")
    if isinstance(raw, bool) or raw in (None, ""):
        raise Refused(_("Choose whom to give the task to."))
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Refused(_("Choose whom to give the task to.")) from None


def _hand_over(actor, action: str, task_id: int, values: Mapping, opinion: str) -> None:
    facts = diagram_view.task_facts(db.session, actor, task_id)  # TaskNotFound for a task one may not see
    to_user_id = _user_id(values)
    if action in facts.opinion_required and not opinion:
        raise Refused(_("Please write an opinion for this action."))
    command = assignment.transfer_task if action == "transfer" else assignment.delegate_task
    command(runtime(), actor, task_id, to_user_id, opinion)


def _countersign(actor, action: str, task_id: int, values: Mapping, opinion: str) -> None:
    visibility.viewable_task_instance(db.session, actor, task_id)  # 404 before any form complaint
    position = values.get("position")
    if position not in countersign_records.POSITIONS:
        raise Refused(_("Choose whether the added approver comes before or after you."))
    to_user_id = _user_id(values)
    if not opinion:
        raise Refused(_("Please write an opinion for this action."))
    countersign.countersign_task(runtime(), actor, task_id, to_user_id, position, opinion)


def _reassign(actor, action: str, task_id: int, values: Mapping, opinion: str) -> None:
    visibility.viewable_task_instance(db.session, actor, task_id)  # 404 before any form complaint
    to_user_id = _user_id(values)
    assignment.reassign_task(runtime(), actor, task_id, to_user_id, opinion)


def _terminate(actor, action: str, task_id: int, values: Mapping, opinion: str) -> None:
    instance_id = visibility.viewable_task_instance(db.session, actor, task_id)  # no workflow load
    commands.terminate_instance(runtime(), actor, instance_id, opinion)


def _urge(actor, action: str, task_id: int, values: Mapping, opinion: str) -> None:
    note = str(values.get("note") or values.get("opinion") or "").strip()
    urge.urge_task(runtime(), actor, task_id, note)


def success_message(action: str) -> str:
    """Return what the page says once an action is done."""
    return {
        "transfer": _("Transferred."),
        "delegate": _("Delegated; it comes back to you."),
        "countersign": _("Approver added."),
        "reassign": _("Reassigned."),
        "terminate": _("The process was terminated."),
        "urge": _("Urged: the holder has been notified."),
    }[action]


def side_actions(detail, actor, now, colleague_choices: list[colleagues.Colleague]) -> SideActions:
    """Return the side actions the task page offers this viewer; countersign picks from colleague_choices."""
    item, is_open = detail.item, detail.state == "open" and detail.instance_status == "running"
    signs = countersign_records.countersigns_of(db.session, item.id) if is_open else []
    my_turn = next((c for c in signs if c.state == "active" and c.user_id == actor.id), None)
    holds = is_open and item.assignee_id == actor.id and detail.owner_id is None and my_turn is None
    may_countersign = holds and "countersign" in detail.allowed_actions
    may_urge = is_open and item.assignee_id != actor.id
    may_urge = may_urge and urge.may_urge(db.session, actor, item.instance_id, item.id)
    return SideActions(
        countersigns=signs,
        my_turn=my_turn,
        may_countersign=may_countersign,
        countersign_choices=colleague_choices if may_countersign else [],
        reassign_choices=reassign_choices(db.session, item.id) if is_open and actor.is_admin else [],
        may_terminate=is_open and actor.is_admin,
        may_urge=may_urge,
        urged_today=may_urge and item.id in urge.urged_today(db.session, [item.id], now),
    )
