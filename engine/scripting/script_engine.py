"""The script engine attached to a workflow for one command: sandbox, clock, service dispatch."""

import json
from datetime import datetime

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.scripting.sandbox import RestrictedEnvironment


def iso_literal(expression: str) -> str | None:
    """Return the expression when it is a bare ISO 8601 duration or date-time, as modelers write them."""
    text = expression.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    try:
        if text.upper().startswith("P"):
            TimerEventDefinition.parse_iso_duration(text)
        else:
            datetime.fromisoformat(text)
    except Exception:
        return None
    return text


class CommandScriptEngine(PythonScriptEngine):
    """Runs one command's engine steps; never serialized, attached again after every load."""

    def __init__(self, context):
        functions = dict(context.functions)
        super().__init__(environment=RestrictedEnvironment(functions=functions))
        self.context = context

    def arm_timer(self, my_task, definition) -> None:
        """Compute a waiting timer's due time once, from the command's clock."""
        if my_task._get_internal_data("event_value") is not None:
            return
        now = self.context.now
        literal = iso_literal(definition.expression)
        value = literal if literal is not None else self.evaluate(my_task, definition.expression)
        if isinstance(definition, DurationTimerEventDefinition):
            parsed = TimerEventDefinition.parse_iso_duration(str(value))
            due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        elif isinstance(value, datetime):
            due = value
        else:
            due = TimerEventDefinition.get_datetime(str(value))
        if due.tzinfo is None:
            raise ValueError(f"timer '{definition.name}' gave a time without a zone: {value}")
        my_task._set_internal_data(event_value=due.isoformat())

    def call_service(self, task, operation_name=None, operation_params=None, **_):
        """Dispatch a service task to the engine's own operations or a registered handler."""
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        result = self.context.call_operation(task, operation_name, params)
        return json.dumps(result or {}, default=str)


def timer_due(task) -> datetime | None:
    """Return the armed due time of a waiting timer task, if any."""
    value = task._get_internal_data("event_value")
    if value is None or isinstance(value, dict):
        return None
    return datetime.fromisoformat(value)
