"""Parse untrusted BPMN text into SpiffWorkflow specs, refusing what could harm the parser."""

from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

MAX_BPMN_BYTES = 2 * 1024 * 1024
_FORBIDDEN_MARKUP = (b"<!doctype", b"<!entity", b"<xi:include", b"xmlns:xi=")


class UnsafeDiagram(ValueError):
    """The text was refused before parsing (too big, a DOCTYPE, entities, XInclude)."""


@dataclass
class ParsedDiagram:
    """The specs of one deployable process, as SpiffWorkflow runs them."""

    process_key: str
    name: str
    spec: object
    subprocess_specs: dict


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def read_untrusted_xml(data: bytes):
    """Return the lxml tree of BPMN text after refusing sizes and markup that attack parsers."""
    if len(data) > MAX_BPMN_BYTES:
        raise UnsafeDiagram(f"the file is {len(data)} bytes; at most {MAX_BPMN_BYTES} are accepted")
    lowered = data.lower()
    for marker in _FORBIDDEN_MARKUP:
        if marker in lowered:
            shown = marker.decode()
            raise UnsafeDiagram(f"'{shown}' is not allowed in a diagram (DOCTYPE, entities and XInclude)")
    try:
        return etree.fromstring(data, parser=_xml_parser())
    except etree.XMLSyntaxError as error:
        raise UnsafeDiagram(f"the file is not well-formed XML: {error}") from error


def choose_process(parser: SpiffBpmnParser, root) -> str:
    """Return the id of the one process this file deploys, or raise ValidationException."""
    executable = parser.get_process_ids()
    every = list(parser.process_parsers)
    if len(executable) == 1:
        return executable[0]
    if not executable and len(every) == 1:
        return every[0]
    if not every:
        raise ValidationException("the file holds no bpmn:process")
    listed = ", ".join(executable or every)
    raise ValidationException(
        f'the file holds several processes ({listed}); mark exactly one isExecutable="true"'
    )


def parse_diagram(data: bytes, source: str) -> ParsedDiagram:
    """Parse BPMN bytes into specs; raise UnsafeDiagram or SpiffWorkflow's exceptions."""
    root = read_untrusted_xml(data)
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(root, filename=source)
    key = choose_process(parser, root)
    spec = parser.get_spec(key)
    subprocess_specs = parser.get_subprocess_specs(key)
    for each in [spec, *subprocess_specs.values()]:
        if each is not None:
            _use_engine_clock(each)
    return ParsedDiagram(key, spec.description or key, spec, subprocess_specs)


class EngineClockTimeDate(TimeDateEventDefinition):
    """A date timer that fires when the sweep says so, never by reading the wall clock."""

    def has_fired(self, my_task):
        my_task.workflow.script_engine.arm_timer(my_task, self)
        return my_task._get_internal_data("event_fired", False)


class EngineClockDuration(DurationTimerEventDefinition):
    """A duration timer armed from the engine's clock and fired by the sweep."""

    def has_fired(self, my_task):
        my_task.workflow.script_engine.arm_timer(my_task, self)
        return my_task._get_internal_data("event_fired", False)


_CLOCKED = {TimeDateEventDefinition: EngineClockTimeDate, DurationTimerEventDefinition: EngineClockDuration}


def _use_engine_clock(spec) -> None:
    """Swap SpiffWorkflow's wall-clock timers for ones the timer sweep fires (specs are never serialized)."""
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        replacement = _CLOCKED.get(type(definition))
        if replacement is not None:
            definition.__class__ = replacement
