"""Parse untrusted BPMN text into SpiffWorkflow specs, refusing what could harm the parser."""

import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

MAX_BPMN_BYTES = 2 * 1024 * 1024
# Entities live in a DOCTYPE; XInclude needs its namespace, whatever the prefix is called.
_FORBIDDEN_MARKUP = (
    "<!doctype",
    "<!entity",
    "<xi:include",
    "xmlns:xi=",
    "http://www.w3.org/2001/xinclude",
    "http://www.w3.org/2003/xinclude",
)
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']*)["']""")
_NS = {"bpmn": BPMN_MODEL_NS}
# (element, attribute) pairs that name another BPMN element by id
_REFERENCES = (
    ("sequenceFlow", "sourceRef"),
    ("sequenceFlow", "targetRef"),
    ("boundaryEvent", "attachedToRef"),
    ("errorEventDefinition", "errorRef"),
    ("escalationEventDefinition", "escalationRef"),
    ("messageEventDefinition", "messageRef"),
    ("signalEventDefinition", "signalRef"),
)

Problems = list[tuple[str, str]]


class UnsafeDiagram(ValueError):
    """The text was refused before parsing (too big, not UTF-8, a DOCTYPE, entities, XInclude)."""


class DiagramProblems(ValueError):
    """The diagram parsed as XML but cannot become a process here; `problems` lists (element id, reason)."""

    def __init__(self, problems: Problems):
        self.problems = problems
        super().__init__("; ".join(f"{element or '-'}: {reason}" for element, reason in problems))


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
    """Return the lxml tree of BPMN text after refusing sizes, encodings and markup that attack parsers."""
    if len(data) > MAX_BPMN_BYTES:
        raise UnsafeDiagram(f"the file is {len(data)} bytes; at most {MAX_BPMN_BYTES} are accepted")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnsafeDiagram(
            f"the file is not UTF-8 text (byte {error.start} is not UTF-8); save it as UTF-8"
        ) from error
    declared = _DECLARED_ENCODING.match(text.lstrip("\ufeff"))
    if declared and not _reads_as_utf8(data, text, declared.group(1)):
        raise UnsafeDiagram(f'the file declares encoding="{declared.group(1)}"; save it as UTF-8')
    lowered = text.lower()
    for marker in _FORBIDDEN_MARKUP:
        if marker in lowered:
            raise UnsafeDiagram(
                f"'{marker}' is not allowed in a diagram (DOCTYPE, entities and XInclude are refused)"
            )
    try:
        root = etree.fromstring(data, parser=_xml_parser())
    except etree.XMLSyntaxError as error:
        raise UnsafeDiagram(f"the file is not well-formed XML: {error}") from error
    if root.tag != f"{{{BPMN_MODEL_NS}}}definitions":
        raise UnsafeDiagram(
            f"the file is not a BPMN diagram: its root element is {short_tag(root.tag)}, not bpmn:definitions"
        )
    return root


def _reads_as_utf8(data: bytes, text: str, encoding: str) -> bool:
    """Whether the declared encoding reads the bytes as UTF-8 does, so no markup hides from the scan."""
    if encoding.lower() in _UTF8_NAMES:
        return True
    try:
        return data.decode(encoding) == text
    except (LookupError, UnicodeDecodeError):
        return False


def choose_process(parser: SpiffBpmnParser) -> str:
    """Return the id of the one process this file deploys, or raise DiagramProblems saying how to fix it."""
    executable = parser.get_process_ids()
    every = list(parser.process_parsers)
    if len(executable) == 1:
        return executable[0]
    if not every:
        raise DiagramProblems([("", "the file holds no bpmn:process")])
    if len(every) == 1:
        raise DiagramProblems([(every[0], not_executable_reason(every[0]))])
    if not executable:
        listed = ", ".join(every)
        reason = f'none of the processes ({listed}) is executable: mark the one to deploy isExecutable="true"'
    else:
        reason = (
            f"the file holds several executable processes ({', '.join(executable)}): mark the one to deploy "
            'isExecutable="true" and the others isExecutable="false"'
        )
    raise DiagramProblems([("", reason)])


def parse_diagram(data: bytes, source: str) -> ParsedDiagram:
    """Parse BPMN bytes into specs; raise UnsafeDiagram, DiagramProblems or SpiffWorkflow's exceptions."""
    root = read_untrusted_xml(data)
    parser = SpiffBpmnParser()
    found = _reference_problems(root) + _data_store_problems(parser, root)
    if found:
        raise DiagramProblems(found)
    parser.add_bpmn_xml(root, filename=source)
    key = choose_process(parser)
    spec = parser.get_spec(key)
    subprocess_specs = parser.get_subprocess_specs(key)
    for each in [spec, *subprocess_specs.values()]:
        if each is not None:
            _use_engine_clock(each)
    return ParsedDiagram(key, spec.description or key, spec, subprocess_specs)


def _reference_problems(root) -> Problems:
    """Duplicate ids and references to missing elements, which SpiffWorkflow misreports or ignores."""
    ids = Counter(root.xpath("//bpmn:*/@id", namespaces=_NS))
    found = [
        (each, f"{count} elements have the id {each}: ids must be unique")
        for each, count in ids.items()
        if count > 1
    ]
    for process in root.iterfind(".//bpmn:process", _NS):
        found += _clashing_ids(process)
    for tag, attribute in _REFERENCES:
        for node in root.iterfind(f".//bpmn:{tag}[@{attribute}]", _NS):
            target = node.get(attribute)
            if target not in ids:
                where = node.get("id") or node.getparent().get("id", "")
                found.append((where, f"{attribute} names '{target}', which is not an element of this file"))
    return found


def _clashing_ids(process) -> Problems:
    """SpiffWorkflow finds a process's elements by id among all its descendants, extension elements too."""
    by_id: dict[str, list] = {}
    for node in process.iterfind(".//*[@id]"):
        by_id.setdefault(node.get("id"), []).append(node)
    found = []
    for each, nodes in by_id.items():
        bpmn = [n for n in nodes if n.tag.startswith(f"{{{BPMN_MODEL_NS}}}")]
        others = [_prefixed(n) for n in nodes if n not in bpmn]
        if len(bpmn) == 1 and others:  # several BPMN elements with one id are reported as duplicates
            reason = f"the id {each} is also the id of {' and '.join(others)}, so SpiffWorkflow takes one"
            found.append((each, reason + " for the other: give the BPMN element another id"))
    return found


def _prefixed(node) -> str:
    local = etree.QName(node).localname
    return f"{node.prefix}:{local}" if node.prefix else local


def _data_store_problems(parser: SpiffBpmnParser, root) -> Problems:
    found = []
    for store in root.iterfind(".//bpmn:dataStore", _NS):
        name = one_line(store.get("name") or "")
        if name not in parser.DATA_STORE_CLASSES:
            reason = f"data store '{name}' is not supported: keep the data in a data object or fetch it in a"
            reason += " service task"
            found.append((store.get("id", ""), reason))
    return found


def one_line(text: str) -> str:
    """Collapse a text's whitespace, newlines included, to single spaces."""
    return " ".join(text.split())


def short_tag(tag: str) -> str:
    """Write a BPMN tag as bpmn:name instead of {namespace}name."""
    return tag.replace(f"{{{BPMN_MODEL_NS}}}", "bpmn:")


def not_executable_reason(process: str) -> str:
    """Say how to make a process that is marked not executable deployable."""
    return f'process {process} is marked isExecutable="false": mark it isExecutable="true" to deploy it'


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
