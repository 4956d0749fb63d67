"""Errors the engine raises; each carries a message a person can act on."""

# Why an action is refused (engine.tasks.permissions): the code the caller translates, and the English
# sentence the error says when nobody translates it. webapp.messages holds the same codes for users.
REASONS = {
    "read_only": "You may only read this task; it is not yours to work.",
    "delegate_hands_back": "A delegated task is only handled and handed back to its owner, who decides.",
    "delegated_away": "You delegated this task; it comes back to you once handled.",
    "countersign_agree_only": "An approver added before the holder can only agree; the holder decides.",
    "countersigning": "You hold this task as a countersigning approver: approve it, or ask the requester.",
    "not_your_turn": "This countersign is someone else's turn.",
    "claim_first": "Claim the task first: only its holder can do this.",
    "not_holder": "Only the person holding a task can release it.",
    "no_queue": "This task is yours alone; there is no queue to release it to.",
    "step_disallows": "This step does not allow '%(action)s'.",
    "admin_only": "Only an administrator can %(action)s.",
    "own_step": "You hold this task yourself; there is nobody to urge.",
    "initiator_only": "Only the applicant can withdraw the application.",
    "process_ended": "This process has already ended.",
    "already_claimed": "You hold this task already.",
    "not_involved": "Only the applicant, an earlier approver or an administrator can urge this step.",
    "no_earlier_step": "There is no earlier step to return to.",
    "holder_only": "Only the person working this open task can do this.",
}


class EngineError(Exception):
    """Base of every refusal the engine explains to its caller."""


class DiagramRefused(EngineError):
    """A BPMN file was not deployed; `problems` lists (element id, reason) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{element or '-'}: {reason}" for element, reason in problems]
        super().__init__(f"{source} was not deployed:\n" + "\n".join(lines))


class UnknownProcess(EngineError):
    def __init__(self, key: str):
        super().__init__(f"No deployed process has the key '{key}'.")


class TaskNotFound(EngineError):
    code = "not_found"

    def __init__(self, task_id):
        super().__init__(f"Task {task_id} does not exist or is not visible to you.")


class TaskAlreadyHandled(EngineError):
    """Someone else acted on the task first."""

    code = "task_closed"

    def __init__(self, by: str | None, at=None):
        self.by = by
        self.at = at
        when = f" at {at:%Y-%m-%d %H:%M}" if at else ""
        super().__init__(f"This task was already handled by {by or 'someone else'}{when}.")


class TaskHeldByOther(TaskAlreadyHandled):
    """Someone else has claimed (or been given) the task."""

    code = "held_by_other"

    def __init__(self, by: str | None):
        EngineError.__init__(self, f"This task is being handled by {by or 'someone else'}.")
        self.by = by
        self.at = None


class NotAllowed(EngineError):
    """The actor may not do this to this task or instance; `code` says why (a key of REASONS)."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(REASONS.get(code, code) % params)


class InvalidCommand(EngineError):
    """The command's input does not fit the task (missing opinion, unknown target step…)."""


class OpinionRequired(InvalidCommand):
    """The action needs an opinion (审批意见) on this step and none was given."""

    code = "opinion_required"

    def __init__(self, action: str):
        self.params = {"action": action}
        super().__init__(f"An opinion is required to {action} (请填写审批意见).")


class NotAColleague(InvalidCommand):
    """A task may be transferred or delegated only to another active user of one's own organisation."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        super().__init__(
            f"User {user_id} is not an active colleague of your organisation; "
            "choose an active colleague (请选择本单位在职的同事)."
        )


class AlreadyUrgedToday(InvalidCommand):
    """The task was urged today already."""

    code = "already_urged_today"

    def __init__(self):
        super().__init__(
            "This task was already urged today; please try again tomorrow (此事项今天已催办过，请明天再试)."
        )


class StepFailed(EngineError):
    """An engine step failed; the instance keeps its last good state and an incident records why."""

    def __init__(self, instance_id: int | None, reason: str):
        self.instance_id = instance_id
        self.reason = reason
        where = f"Instance {instance_id}" if instance_id else "The process"
        super().__init__(f"{where} could not continue: {reason}")
