"""Errors the engine raises; each carries a message a person can act on."""


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
    def __init__(self, task_id):
        super().__init__(f"Task {task_id} does not exist or is not visible to you.")


class TaskAlreadyHandled(EngineError):
    """Someone else acted on the task first."""

    def __init__(self, by: str | None, at=None):
        self.by = by
        self.at = at
        when = f" at {at:%Y-%m-%d %H:%M}" if at else ""
        super().__init__(f"This task was already handled by {by or 'someone else'}{when}.")


class TaskHeldByOther(TaskAlreadyHandled):
    """Someone else has claimed (or been given) the task."""

    def __init__(self, by: str | None):
        EngineError.__init__(self, f"This task is being handled by {by or 'someone else'}.")
        self.by = by
        self.at = None


class NotAllowed(EngineError):
    """The actor may not do this to this task or instance."""


class InvalidCommand(EngineError):
    """The command's input does not fit the task (missing opinion, unknown target step…)."""


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
