"""Engine refusals in the user's language."""

from flask_babel import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _

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
from engine.errors import StepFailed
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound


def explain(error: EngineError) -> str:
    """Return a message a person can act on, translated where the kind of error is known."""
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
