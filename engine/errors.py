"""Errors the engine raises: a code naming the rule and the values of its message, never a sentence.

Pages, the API and the CLI word them from the Babel catalogs (``webapp.messages.explain``).
"""

from domain.refusals import CodedError


class EngineError(CodedError):
    """Base of every refusal the engine explains to its caller: ``EngineError(code, /, **params)``."""


class DiagramRefused(EngineError):
    """A BPMN file was not deployed; `problems` lists (element id, reason) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        listed = "; ".join(f"{element or '-'}: {reason}" for element, reason in problems)
        super().__init__("diagram_refused", source=source, problems=listed)


class UnknownProcess(EngineError):
    def __init__(self, key: str):
        super().__init__("unknown_process", key=key)


class TaskNotFound(EngineError):
    """No such task, or one the actor may not see: both answer the same (404)."""

    def __init__(self, task_id):
        super().__init__("not_found", task_id=task_id)


class TaskAlreadyHandled(EngineError):
    """Someone else acted on the task first; `by` is who (None when unknown), `at` when."""

    def __init__(self, by: str | None, at=None):
        self.by = by
        self.at = at
        super().__init__("task_closed", who=by, when=at)


class TaskHeldByOther(TaskAlreadyHandled):
    """Someone else has claimed (or been given) the task."""

    def __init__(self, by: str | None):
        EngineError.__init__(self, "held_by_other", who=by)
        self.by = by
        self.at = None


class NotAllowed(EngineError):
    """The actor may not do this to this task or instance; `code` says why (engine.tasks.permissions)."""


class InvalidCommand(EngineError):
    """The command's input does not fit the task (missing opinion, unknown target step…)."""


class OpinionRequired(InvalidCommand):
    """The action needs an opinion (审批意见) on this step and none was given."""

    def __init__(self, action: str):
        super().__init__("opinion_required", action=action)


class NotAColleague(InvalidCommand):
    """A task may be transferred or delegated only to another active user of one's own organisation."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        super().__init__("not_a_colleague", user_id=user_id)


class AlreadyUrgedToday(InvalidCommand):
    """The task was urged today already."""

    def __init__(self):
        super().__init__("already_urged_today")


class StepFailed(EngineError):
    """An engine step failed; the instance keeps its last good state and an incident records why."""

    def __init__(self, instance_id: int | None, reason: str):
        self.instance_id = instance_id
        self.reason = reason
        super().__init__("step_failed", instance_id=instance_id, reason=reason)
