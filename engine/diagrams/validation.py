"""Deploy-time checks of a parsed diagram against what this installation can run."""

import ast
import re
from collections.abc import Callable
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Protocol

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask as NoneTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask as ScriptTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.specs.MultiChoice import MultiChoice

from domain.calendar.deadlines import DayCountOutOfRange
from engine.diagrams.parsing import ParsedDiagram
from engine.diagrams.settings import DEFAULT_ACTIONS
from engine.diagrams.settings import STARTER_KINDS
from engine.diagrams.settings import starter_problems
from engine.scripting.guards import ScriptTimeout
from engine.scripting.sandbox import RestrictedEnvironment
from engine.scripting.sandbox import check_expression
from engine.scripting.sandbox import check_script
from engine.scripting.script_engine import iso_literal


class Registries(Protocol):
    """What a deploy checks against: registered operations, form keys, candidate rules, script functions."""

    operations: Mapping
    form_keys: frozenset[str]
    candidate_rules: Mapping
    script_functions: Mapping
    clock: Callable


BUILTIN_OPERATIONS = frozenset({"remind", "escalate"})
ACTIONS = frozenset({"approve", "return", "reject", "transfer", "delegate", "countersign", "withdraw"})
UNSUPPORTED_TASKS = {
    "SendTask": "send tasks are not supported: nothing outside the process receives messages",
    "ReceiveTask": "receive tasks are not supported: nothing delivers messages to a process",
    "BusinessRuleTask": "business rule (DMN) tasks are not supported yet",
    "EventBasedGateway": "event-based gateways are not supported",
}
LONGEST_TIMER = timedelta(days=366 * 100)
DEPLOY_BUDGET = 0.5  # seconds a timer expression may take when tried at deploy time
# A bare name that looks like an ISO 8601 duration or cycle (PXYZ, P5X, R3): a typo, not a variable.
_ISO_LOOKALIKE = re.compile(r"^[PR][0-9A-Z.,]*$")

Problems = list[tuple[str, str]]
STARTER_KINDS_TEXT = ", ".join(sorted(STARTER_KINDS))


def validate_diagram(parsed: ParsedDiagram, rt: Registries) -> Problems:
    """Return every (element id, reason) that keeps this diagram from running here."""
    problems: Problems = []
    specs = [parsed.spec, *(s for s in parsed.subprocess_specs.values() if s is not None)]
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) is None:
                continue
            problems.extend(_check_task_spec(task_spec, rt))
    return problems


def _check_task_spec(task_spec, rt: Registries) -> Problems:
    element = task_spec.bpmn_id
    kind = type(task_spec).__name__
    if kind in UNSUPPORTED_TASKS:
        return [(element, UNSUPPORTED_TASKS[kind])]
    found = []
    if getattr(task_spec, "manual", False):  # user, manual and plain tasks all wait in an inbox
        found += _check_user_task(task_spec, rt)
    if isinstance(task_spec, ScriptTaskMixin):
        if not (task_spec.script or "").strip():
            found.append((element, "script task has no script"))
        found += _text_problems(element, "script", task_spec.script or "", check_script)
    if isinstance(task_spec, ServiceTaskMixin):
        found += _check_service_task(task_spec, rt)
    for attribute in ("prescript", "postscript"):
        text = getattr(task_spec, attribute, None)
        if text:
            found += _text_problems(element, attribute, text, check_script)
    if isinstance(task_spec, MultiChoice):
        for condition, _target in task_spec.cond_task_specs:
            text = getattr(condition, "args", (condition,))[0]  # SpiffWorkflow wraps it in an operator
            if isinstance(text, str):
                found += _text_problems(element, "condition", text, check_expression)
    if isinstance(task_spec, LoopTask):
        for attribute in ("cardinality", "condition"):
            text = getattr(task_spec, attribute, None)
            if isinstance(text, str) and text.strip():
                found += _text_problems(element, f"loop {attribute}", text, check_expression)
    listed = task_spec.extensions.get("properties", {}).get("starters") if kind == "StartEvent" else None
    if listed is not None:
        found += [
            (element, f"starters entry '{entry}' is not kind[.level][:role] (kinds: {STARTER_KINDS_TEXT})")
            for entry in starter_problems(listed)
        ]
    definition = getattr(task_spec, "event_definition", None)
    if definition is not None:
        found += _check_event(element, task_spec, definition, rt)
    return found


def _check_user_task(task_spec, rt: Registries) -> Problems:
    element = task_spec.bpmn_id
    properties = task_spec.extensions.get("properties", {})
    found = []
    form_key = properties.get("formKey")
    if not form_key:
        what = _person_task(task_spec)
        found.append((element, f'{what} has no formKey property (spiffworkflow:property name="formKey")'))
    elif form_key not in rt.form_keys:
        found.append((element, f"form key '{form_key}' is not in the form catalog"))
    rule = properties.get("candidates") or task_spec.lane
    if not rule:
        what = _person_task(task_spec)
        found.append((element, f"{what} is in no lane and names no candidates rule: nobody could do it"))
    elif rule not in rt.candidate_rules:
        known = ", ".join(sorted(rt.candidate_rules))
        found.append((element, f"lane or candidates rule '{rule}' is unknown (known rules: {known})"))
    actions = set(filter(None, properties.get("actions", DEFAULT_ACTIONS).split(",")))
    if actions - ACTIONS:
        found.append((element, f"unknown actions: {', '.join(sorted(actions - ACTIONS))}"))
    if properties.get("due"):
        found += _text_problems(element, "due", properties["due"], check_expression) or _try_due(
            element, properties["due"], rt
        )
    if not _whole_number(properties.get("priority", "50")):
        found.append((element, f"priority '{properties['priority']}' is not a whole number"))
    return found


def _whole_number(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _person_task(task_spec) -> str:
    if isinstance(task_spec, NoneTaskMixin):
        return "task (a plain task waits for a person, as a user task does)"
    return "manual task" if isinstance(task_spec, ManualTaskMixin) else "user task"


def _check_service_task(task_spec, rt: Registries) -> Problems:
    element = task_spec.bpmn_id
    name = getattr(task_spec, "operation_name", None)
    if name is None:
        return [(element, "service task names no spiffworkflow:serviceTaskOperator")]
    found = []
    if name not in rt.operations and name not in BUILTIN_OPERATIONS:
        found.append((element, f"service operation '{name}' is not registered"))
    for param, spec in (getattr(task_spec, "operation_params", None) or {}).items():
        found += _text_problems(element, f"parameter {param}", spec["value"], check_expression)
    return found


def _check_event(element: str, task_spec, definition, rt: Registries) -> Problems:
    if isinstance(definition, CycleTimerEventDefinition):
        return [(element, "cycle timers are not supported; use a duration or a date")]
    if isinstance(definition, TimerEventDefinition):
        return _check_timer(element, definition, rt)
    if isinstance(definition, MultipleEventDefinition):
        return [(element, "multiple-event definitions are not supported")]
    if isinstance(definition, ConditionalEventDefinition):
        return [(element, "conditional events are not supported")]
    if isinstance(definition, MessageEventDefinition | SignalEventDefinition):
        if isinstance(task_spec, ThrowingEvent):
            return [(element, "message and signal throw events are not supported: nothing receives them")]
        return [(element, "message and signal catch events are not supported: nothing delivers them")]
    payload = getattr(definition, "expression", None)  # the payload of an error or escalation
    if isinstance(payload, str) and payload.strip():
        return _text_problems(element, "event payload", payload, check_expression)
    return []


def _check_timer(element: str, definition, rt: Registries) -> Problems:
    expression = (definition.expression or "").strip()
    if not expression:
        return [(element, "timer has no time expression")]
    literal = iso_literal(expression)
    if literal is None:
        found = _text_problems(element, "timer", expression, check_expression)
        if found:
            return found
        try:
            value = ast.literal_eval(expression)
        except (ValueError, SyntaxError):
            if _ISO_LOOKALIKE.match(expression):
                return [(element, f"timer {expression} is not an ISO 8601 duration (such as P5D or PT2H)")]
            return _try_timer_expression(element, definition, expression, rt)
        if not isinstance(value, str) or iso_literal(value) is None:
            return [(element, f"timer expression {expression} is not an ISO 8601 duration or date-time")]
        literal = iso_literal(value)
    return _check_timer_literal(element, definition, literal)


# What a timer expression must not do even before it sees task data: run away, or count absurd days.
_TIMER_FAULTS = (ScriptTimeout, MemoryError, RecursionError, OverflowError, DayCountOutOfRange)


def _tried(expression: str, rt: Registries):
    """Evaluate an expression now, without task data, under a short budget; return (fault, value).

    A fault is kept only when the expression runs away or asks for an absurd day count; one that
    needs task data (a NameError) or a policy calendar not yet set is judged when it runs.
    """
    now = rt.clock()
    functions = {name: factory(now) for name, factory in rt.script_functions.items()}
    try:
        return None, RestrictedEnvironment(functions, time_budget=DEPLOY_BUDGET).evaluate(expression, {})
    except _TIMER_FAULTS as fault:
        return fault, None
    except Exception:  # needs task data, or data a later day supplies: checked when it runs
        return None, None


def _try_timer_expression(element: str, definition, expression: str, rt: Registries) -> Problems:
    """Refuse a timer expression that runs away, or gives no ISO 8601 duration or date-time."""
    fault, value = _tried(expression, rt)
    if fault is not None:
        return [(element, f"timer expression {expression} cannot be evaluated: {fault}")]
    if value is None:
        return []
    literal = iso_literal(value) if isinstance(value, str) else None
    if literal is None:
        gives = f"gives {repr(value)[:80]}"
        return [(element, f"timer expression {expression} {gives}, not an ISO 8601 duration or date-time")]
    return _check_timer_literal(element, definition, literal)


def _try_due(element: str, expression: str, rt: Registries) -> Problems:
    """Refuse a due-date rule that runs away or gives no date-time."""
    fault, value = _tried(expression, rt)
    if fault is not None:
        return [(element, f"due {expression} cannot be evaluated: {fault}")]
    if value is None or isinstance(value, datetime):
        return []
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return [(element, f"due {expression} gives {repr(value)[:80]}, not a date-time")]
    return []


def _check_timer_literal(element: str, definition, literal: str) -> Problems:
    is_duration = literal.upper().startswith("P")
    if isinstance(definition, DurationTimerEventDefinition) and not is_duration:
        return [(element, f"timer duration {literal} is not an ISO 8601 duration (such as P5D or PT2H)")]
    if isinstance(definition, TimeDateEventDefinition) and is_duration:
        return [
            (element, f"timer date {literal} is a duration: put it in a timeDuration or give a date-time")
        ]
    if is_duration and not _reasonable_duration(literal):
        return [(element, f"timer duration {literal} is longer than 100 years")]
    return []


def _reasonable_duration(literal: str) -> bool:
    """Whether the duration arms quickly (SpiffWorkflow walks month by month) and fits in 100 years."""
    parsed = TimerEventDefinition.parse_iso_duration(literal)
    if parsed.get("years", 0) * 12 + parsed.get("months", 0) > 1200:
        return False
    try:
        return (
            TimerEventDefinition.get_timedelta_from_start(parsed, datetime(2000, 1, 1, tzinfo=UTC))
            <= LONGEST_TIMER
        )
    except OverflowError:
        return False


def _text_problems(element: str, what: str, text: str, check) -> Problems:
    return [(element, f"{what}: {reason}") for reason in check(text)]
