"""Engine refusals in the user's language."""

from flask_babel import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from domain.identity import MESSAGES_ZH
from domain.identity import IdentifierError
from domain.registration.applications import MESSAGES_ZH as REGISTRATION_ZH
from domain.registration.applications import RegistrationRefused
from engine.errors import AlreadyUrgedToday
from engine.errors import DiagramRefused
from engine.errors import EngineError
from engine.errors import InvalidCommand
from engine.errors import NotAColleague
from engine.errors import NotAllowed
from engine.errors import OpinionRequired
from engine.errors import StepFailed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound

# Why an action is refused (engine.tasks.permissions reason codes): the one table users read them from.
REFUSALS = {
    "not_found": _l("This task does not exist or is not yours to see."),
    "not_involved": _l("Only the applicant, an earlier approver or an administrator can urge this step."),
    "read_only": _l("You may only read this task; it is not yours to work."),
    "task_closed": _l("This task has already been handled."),
    "held_by_other": _l("Someone else is handling this task."),
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
    "step_disallows": _l("This step does not allow this action."),
    "admin_only": _l("Only an administrator can do this."),
    "own_step": _l("You hold this task yourself; there is nobody to urge."),
    "already_urged_today": _l("This task was already urged today; please try again tomorrow."),
    "initiator_only": _l("Only the applicant can withdraw the application."),
    "process_ended": _l("This process has already ended."),
    "already_claimed": _l("You hold this task already."),
    "no_earlier_step": _l("There is no earlier step to return to."),
    "holder_only": _l("Only the person working this open task can do this."),
    "opinion_required": _l("Please write an opinion for this action."),
    "own_form": _l("This step has its own form: open it."),
}


def explain_reason(code: str | None) -> str:
    """Return a refusal's reason code in the user's language."""
    return str(REFUSALS.get(code or "", code or ""))


def explain(error: EngineError) -> str:
    """Return a message a person can act on, translated where the kind of error is known."""
    if isinstance(error, NotAllowed | OpinionRequired) and error.code in REFUSALS:
        return explain_reason(error.code)
    if isinstance(error, TaskNotFound):
        return _("This task does not exist or is not yours to see.")
    if isinstance(error, AlreadyUrgedToday):
        return _("This task was already urged today; please try again tomorrow.")
    if isinstance(error, NotAColleague):
        return _("Choose an active colleague of your organisation.")
    if isinstance(error, TaskHeldByOther):
        return _("This task is being handled by %(who)s.", who=error.by or _("someone else"))
    if isinstance(error, TaskAlreadyHandled):
        who = error.by or _("someone else")
        if error.at is not None:
            return _(
                "This task was already handled by %(who)s at %(when)s.",
                who=who,
                when=format_datetime(error.at),
            )
        return _("This task was already handled by %(who)s.", who=who)
    if isinstance(error, StepFailed):
        return _(
            "The process could not continue; an incident was recorded for the administrator: %(reason)s",
            reason=error.reason,
        )
    if isinstance(error, DiagramRefused):
        return _(
            "The diagram was not deployed: %(problems)s",
            problems="; ".join(f"{e or '-'}: {r}" for e, r in error.problems),
        )
    if isinstance(error, NotAllowed | InvalidCommand):
        return _("Not possible: %(reason)s", reason=str(error))
    return str(error)


def explain_identity(error: IdentifierError) -> str:
    """Return an ID number or credit code refusal in the user's language."""
    if get_locale().language == "zh":
        return MESSAGES_ZH[error.code] % error.params
    return str(error)


def explain_refusal(error: RegistrationRefused) -> str:
    """Return a registration refusal in the user's language."""
    if get_locale().language == "zh":
        return REGISTRATION_ZH[error.code] % error.params
    return str(error)
