"""Every refusal in the user's language: one table from error code to message, one `explain`.

Domain and engine errors carry a code and parameters (``domain.refusals.CodedError``); the words are
Babel msgids here (engine codes) and in ``forms.messages`` (domain codes, which form validators
show too). Parameters that are words (an action) are translated as well, dates are formatted.
"""

from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from domain.refusals import CodedError
from forms.messages import DOMAIN_MESSAGES
from forms.policy import LABELS as POLICY_SETTINGS

ENGINE_MESSAGES = {
    "diagram_refused": _l("The diagram was not deployed: %(problems)s"),
    "unknown_process": _l("No deployed process has the key '%(key)s'."),
    "not_found": _l("This task does not exist or is not yours to see."),
    "task_closed": _l("This task was already handled by %(who)s%(when)s."),
    "held_by_other": _l("This task is being handled by %(who)s."),
    "not_a_colleague": _l("Choose an active colleague of your organisation."),
    "already_urged_today": _l("This task was already urged today; please try again tomorrow."),
    "step_failed": _l(
        "The process could not continue; an incident was recorded for the administrator: %(reason)s"
    ),
    "no_active_user": _l("User %(user_id)s does not exist or is not active."),
    "no_instance": _l("Process instance %(instance_id)s does not exist."),
    "no_open_incident": _l("Process instance %(instance_id)s has no open incident."),
    "bad_process_key": _l(
        "%(key)s is not a process key: a key is a plain identifier of letters, digits and underscores "
        "that does not start with a digit."
    ),
    "start_data_too_big": _l("The start data has %(size)s characters; at most %(most)s are allowed."),
    "start_data_too_deep": _l("The start data is nested more than %(most)s levels deep."),
    "start_data_not_object": _l('The start data must be a JSON object, such as {"subject": "..."}.'),
    "start_data_not_json": _l("The start data is not valid JSON: %(reason)s"),
    "rung_not_on_timer": _l("'%(operation)s' must follow a boundary timer on a user task."),
    "unknown_operation": _l("The service operation '%(operation)s' is not registered."),
    "read_only": _l("You may only read this task; it is not yours to work."),
    "opinion_required": _l("An opinion is required to %(action)s."),
    "transfer_to_self": _l("A task cannot be transferred to yourself."),
    "delegate_to_self": _l("A task cannot be delegated to yourself."),
    "reassign_same_holder": _l("This user already holds the task."),
    "copy_note_too_long": _l("A note can be at most %(most)s characters."),
    "copy_outside_region": _l(
        "%(name)s may not see tasks of this region; copy it to a colleague "
        "or to the HRSS of this region or above."
    ),
    "copy_nobody": _l("Choose at least one person to copy the task to."),
    "copy_bad_user_ids": _l("User ids must be whole numbers."),
    "copy_too_many": _l("A task can be copied to at most %(most)s people at a time."),
    "copy_to_self": _l("A task cannot be copied to yourself."),
    "copy_clash": _l("This task was copied to the same person just now; please try again."),
    "process_ended": _l("This process has already ended."),
    "no_first_step": _l("This process has no first step to submit."),
    "no_earlier_step": _l("There is no earlier step to return to."),
    "not_an_earlier_step": _l(
        "'%(step)s' is not an earlier step of this process (earlier steps: %(steps)s)."
    ),
    "countersign_position": _l("Countersign before or after you, not '%(position)s'."),
    "countersign_self": _l("You cannot add yourself as a countersigning approver."),
    "countersign_stranger": _l("%(name)s is neither your colleague nor a candidate of this task."),
    "countersign_pending": _l("%(name)s already has a pending countersign on this task."),
    "countersign_pending_race": _l("This approver already has a pending countersign on this task."),
    "countersign_already": _l("%(name)s already has a countersign on this task."),
    # why engine.tasks.permissions refuses an action
    "not_involved": _l("Only the applicant, an earlier approver or an administrator can urge this step."),
    "delegate_hands_back": _l("A delegated task is only handled and handed back to its owner, who decides."),
    "delegated_away": _l("You delegated this task; it comes back to you once handled."),
    "countersign_agree_only": _l("An approver added before the holder can only agree; the holder decides."),
    "countersigning": _l(
        "You hold this task as a countersigning approver: approve it, or ask the requester."
    ),
    "not_your_turn": _l("This countersign is someone else's turn."),
    "claim_first": _l("Claim the task first: only its holder can do this."),
    "not_holder": _l("Only the person holding a task can release it."),
    "no_queue": _l("This task is yours alone; there is no queue to release it to."),
    "step_disallows": _l("This step does not allow %(action)s."),
    "admin_only": _l("Only an administrator can %(action)s."),
    "own_step": _l("You hold this task yourself; there is nobody to urge."),
    "initiator_only": _l("Only the applicant can withdraw the application."),
    "already_claimed": _l("You hold this task already."),
    "holder_only": _l("Only the person working this open task can do this."),
    "own_form": _l("This step has its own form: open it."),
    "start_refused": _l("Your role may not start this process."),
}

MESSAGES = DOMAIN_MESSAGES | ENGINE_MESSAGES

# Parameters that are words, not names or numbers: an action goes into a sentence as a verb.
ACTIONS = {
    "approve": _l("approve"),
    "return": _l("return"),
    "reject": _l("reject"),
    "withdraw": _l("withdraw"),
    "terminate": _l("terminate"),
    "claim": _l("claim"),
    "release": _l("release"),
    "transfer": _l("transfer"),
    "delegate": _l("delegate"),
    "reassign": _l("reassign"),
    "countersign": _l("countersign"),
    "urge": _l("urge"),
    "copy": _l("copy"),
    "retry": _l("retry"),
}


def explain_reason(code: str | None, **params) -> str:
    """Return why an action is refused (a permission reason code) in the user's language."""
    return explain(CodedError(code or "not_found", **params))


def explain(error: CodedError) -> str:
    """Return the message of a domain or engine error in the user's language, its values filled in."""
    template = MESSAGES.get(error.code)
    if template is None:  # a code without words is a bug the translation tests catch; say something
        return _("This could not be done (%(code)s).", code=error.code)
    return str(template) % _Shown(error.params)


class _Shown(dict):
    """The values a message shows, each as `_shown` words it; a value the caller left out is shown empty."""

    def __init__(self, params: dict):
        super().__init__({name: _shown(name, value) for name, value in params.items()})

    def __missing__(self, name: str):
        return _shown(name, None)


def _shown(name: str, value):
    if name == "who" and value is None:
        return _("someone else")
    if name == "when":
        return _(" (at %(when)s)", when=format_datetime(value)) if isinstance(value, datetime) else ""
    if name == "action":
        return str(ACTIONS.get(value, value or ""))
    if value is None:
        return ""
    if name == "setting":
        return str(POLICY_SETTINGS.get(value, value))
    if isinstance(value, datetime):
        return format_datetime(value)
    return value
