"""Deployed BPMN definitions: validate, store as a new version, and cache their parsed specs."""

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams.parsing import DiagramProblems
from engine.diagrams.parsing import ParsedDiagram
from engine.diagrams.parsing import UnsafeDiagram
from engine.diagrams.parsing import not_executable_reason
from engine.diagrams.parsing import one_line
from engine.diagrams.parsing import parse_diagram
from engine.diagrams.parsing import read_untrusted_xml
from engine.diagrams.parsing import short_tag
from engine.diagrams.validation import validate_diagram
from engine.errors import DiagramRefused
from engine.errors import InvalidCommand
from engine.errors import UnknownProcess
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.models import ProcessDefinition

# A process key names files, cache entries and URLs: a plain identifier, never a path.
PROCESS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_process_key(key) -> str:
    """Return the key if it is a plain identifier, else raise InvalidCommand."""
    if not isinstance(key, str) or len(key) > _limit("process_key") or not PROCESS_KEY.fullmatch(key):
        raise InvalidCommand("bad_process_key", key=ascii(str(key)[:64]))
    return key


@dataclass(frozen=True)
class DeployedVersion:
    """What a deploy reports back."""

    process_key: str
    version: int
    definition_id: int
    unchanged: bool


def check_diagram(rt: Runtime, data: bytes, source: str) -> ParsedDiagram:
    """Parse and validate a diagram; raise DiagramRefused with every problem found."""
    try:
        parsed = parse_diagram(data, source)
    except UnsafeDiagram as error:
        raise DiagramRefused(source, [("", str(error))]) from error
    except DiagramProblems as error:
        raise DiagramRefused(source, error.problems) from error
    except Exception as error:  # SpiffWorkflow raises bare exceptions too: each becomes a readable reason
        raise DiagramRefused(source, [_explain(error, read_untrusted_xml(data))]) from error
    problems = _row_problems(parsed) + validate_diagram(parsed, rt)
    if problems:
        raise DiagramRefused(source, problems)
    return parsed


def deploy(rt: Runtime, data: bytes, source: str, deployed_by: str) -> DeployedVersion:
    """Store a diagram as the next version of its process key; identical text is not stored twice."""
    parsed = check_diagram(rt, data, source)
    checksum = hashlib.sha256(data).hexdigest()
    with unit_of_work(rt) as session:
        latest = _latest(session, parsed.process_key)
        if latest is not None and latest.checksum == checksum:
            return DeployedVersion(parsed.process_key, latest.version, latest.id, True)
        row = ProcessDefinition(
            process_key=parsed.process_key,
            version=(latest.version + 1) if latest else 1,
            name=parsed.name,
            bpmn_xml=data.decode("utf-8"),
            checksum=checksum,
            source_name=source[-_limit("source_name") :],
            deployed_by=deployed_by,
            deployed_at=rt.clock(),
        )
        session.add(row)
        session.flush()
        deployed = DeployedVersion(row.process_key, row.version, row.id, False)
    # cached only once committed: a rolled-back id may be handed out again (SQLite reuses them)
    rt.spec_cache[deployed.definition_id] = parsed
    return deployed


def seed_bundled(rt: Runtime, folder: Path) -> list[DeployedVersion]:
    """Deploy version 1 of every diagram in the folder whose key has no version yet."""
    deployed = []
    for path in sorted(folder.glob("*.bpmn")):
        data = path.read_bytes()
        parsed = check_diagram(rt, data, path.name)
        with unit_of_work(rt, write=False) as session:
            exists = _latest(session, parsed.process_key) is not None
        if not exists:
            deployed.append(deploy(rt, data, path.name, "system"))
    return deployed


def latest_definition(session: Session, process_key: str) -> ProcessDefinition:
    """Return the newest version of a process key, or raise UnknownProcess."""
    row = _latest(session, process_key)
    if row is None:
        raise UnknownProcess(process_key)
    return row


def specs_for(rt: Runtime, session: Session, definition_id: int) -> ParsedDiagram:
    """Return the parsed specs of a definition version, parsing it once per process."""
    parsed = rt.spec_cache.get(definition_id)
    if parsed is None:
        row = session.get(ProcessDefinition, definition_id)
        parsed = parse_diagram(row.bpmn_xml.encode("utf-8"), row.source_name)
        rt.spec_cache[definition_id] = parsed
    return parsed


@dataclass(frozen=True)
class DefinitionView:
    process_key: str
    version: int
    name: str
    deployed_by: str
    deployed_at: datetime


def list_definitions(session: Session) -> list[DefinitionView]:
    """Return the newest version of every process key."""
    d = ProcessDefinition  # not the diagrams' XML: every inbox page lists the processes
    rows = session.execute(_newest(select(d.process_key, d.version, d.name, d.deployed_by, d.deployed_at)))
    return [DefinitionView(*row) for row in rows]


def newest_definition_ids(session: Session) -> dict[str, int]:
    """Return the id of the newest version of every process key."""
    rows = session.execute(_newest(select(ProcessDefinition.process_key, ProcessDefinition.id)))
    return dict(rows.all())


def _newest(statement):
    """Narrow a statement over definitions to the newest version of each process key."""
    newest = (
        select(ProcessDefinition.process_key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.process_key)
        .subquery()
    )
    return statement.join(
        newest,
        (newest.c.process_key == ProcessDefinition.process_key)
        & (newest.c.version == ProcessDefinition.version),
    )


def _latest(session: Session, process_key: str) -> ProcessDefinition | None:
    return session.execute(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_key == process_key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).scalar_one_or_none()


@functools.cache
def _limit(column: str) -> int:
    return ProcessDefinition.__table__.c[column].type.length


def _row_problems(parsed: ParsedDiagram) -> list[tuple[str, str]]:
    """Refuse what the definition row cannot hold (PostgreSQL enforces lengths; SQLite would not)."""
    found = []
    if not PROCESS_KEY.fullmatch(parsed.process_key):
        reason = "the process id must be a plain identifier: letters, digits and underscores, no digit first"
        found.append((parsed.process_key, reason))
    for what, column, value in (("id", "process_key", parsed.process_key), ("name", "name", parsed.name)):
        if len(value) > _limit(column):
            reason = (
                f"the process {what} is {len(value)} characters long; at most {_limit(column)} are allowed"
            )
            found.append((parsed.process_key, reason))
    return found


def _explain(error: Exception, root) -> tuple[str, str]:
    """Return (element id, reason) for a parse failure, in words a diagram author can act on."""
    element = getattr(error, "id", "") or getattr(getattr(error, "task_spec", None), "bpmn_id", "") or ""
    tag = getattr(error, "tag", "") or "element"
    message = _plain_message(error)
    for pattern, explain in _LOCATED:
        match = re.match(pattern, message)
        if match:
            return explain(match, element, tag, root)
    for pattern, reason in _REWORDED:
        match = re.match(pattern, message)
        if match:
            return element, reason.format(*match.groups(), tag=tag)
    return element, message


def _plain_message(error: BaseException) -> str:
    """SpiffWorkflow's text without object reprs, doubled periods or the repr of a wrapped exception."""
    cause = error.__cause__ or error.__context__
    if isinstance(error, SpiffWorkflowException):
        if (
            cause is not None
            and not isinstance(cause, SpiffWorkflowException)
            and error.args[:1] == (repr(cause),)
        ):
            return _plain_message(cause)  # TaskParser wraps other errors as ValidationException("%r" % error)
        text = " ".join(str(part) for part in [*error.args[:1], *error.notes])
    else:
        first = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
        detail = first.replace("%r", "").strip(" :") or "no details"
        text = f"SpiffWorkflow could not read the diagram ({type(error).__name__}: {detail})"
    text = re.sub(r"<_?Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>", r"bpmn:\1", text)
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "an XML element", text)
    text = re.sub(r"\s*\.(?:\s*\.)+", ".", one_line(text))
    return text.strip().rstrip(".").strip() or "SpiffWorkflow refused the diagram without saying why"


def _find(root, path: str, **variables) -> list:
    return root.xpath(path, namespaces={"bpmn": BPMN_MODEL_NS}, **variables)


def _not_executable(match, element, tag, root):
    return match.group(1), not_executable_reason(match.group(1))


def _many_outgoing(match, element, tag, root):
    count = len(_find(root, "//bpmn:sequenceFlow[@sourceRef=$id]", id=element)) or "several"
    reason = f"{count} sequence flows leave this {tag}: add a parallel gateway (to do all) or an exclusive"
    return element, reason + " gateway (to choose one) after it"


def _unresolved_data(match, element, tag, root):
    direction, end = match.groups()
    refs = _find(root, f"//*[@id=$id]/bpmn:data{direction}Association/bpmn:{end}/text()", id=element)
    for ref in refs:
        problem = _data_ref_problem(root, ref.strip())
        if problem:
            return element, f"a data {direction.lower()} association {problem}"
    return element, f"a data {direction.lower()} association refers to something that is not a data object"


def _data_ref_problem(root, ref: str) -> str | None:
    found = _find(root, "//*[@id=$id]", id=ref)
    if not found:
        return f"refers to '{ref}', which is not in the file"
    kind, name = short_tag(found[0].tag), one_line(found[0].get("name") or "")
    if kind == "bpmn:dataStoreReference":
        return f"uses data store reference '{ref}' ({name}): data stores are not supported"
    if kind == "bpmn:dataObjectReference":
        if not _find(root, "//bpmn:dataObject[@id=$id]", id=found[0].get("dataObjectRef") or ""):
            return f"uses data object reference '{ref}' ({name}), which names no data object"
        return None
    if kind == "bpmn:dataObject":
        return None
    return f"refers to {kind} '{ref}' ({name}): tasks can use data objects only"


def _missing_called(match, element, tag, root):
    called = match.group(1)
    callers = _find(root, "//bpmn:callActivity[@calledElement=$name]/@id", name=called)
    reason = (
        f"calls process '{called}', which is not in this file: a diagram must hold every process it calls"
    )
    return (callers[0] if callers else element), reason


_LOCATED = [
    (r"Process (\S+) is not executable", _not_executable),
    (r"Multiple outgoing flows are not supported", _many_outgoing),
    (r"Cannot resolve data(Input|Output)Association bpmn:(sourceRef|targetRef)", _unresolved_data),
    (r"The process '(.+?)' was not found", _missing_called),
]
# SpiffWorkflow's message -> what to tell the author; {0}... are the message's groups, {tag} the element's
_REWORDED = [
    (
        r"Time Specification Error\. Unknown Time Specification",
        "the timer has no time: give its timer definition a timeDate, timeDuration or timeCycle",
    ),
    (r"Time Specification Error\. (.+)", "the timer cannot be read: {0}"),
    (
        r"Non-default exclusive outgoing sequence flow without condition",
        "this sequence flow leaves a gateway with no condition and is not the gateway's default flow:"
        " give it a condition or make it the default",
    ),
    (
        r"A Service Task must have an operator",
        "the service task names no operation: add spiffworkflow:serviceTaskOperator naming a registered one",
    ),
    (
        r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
        "a sub-process needs exactly one start event and this one has {0}: add one inside it",
    ),
    (r"A SubWorkflow Must contain an End event", "the sub-process has no end event: add one inside it"),
    (r"There is no support implemented for this task type", "{tag} elements are not supported"),
    (r"No start event found", "the process has no start event"),
    (
        r"When looking for a task spec, we found two items.*\((.+)\)$",
        "a sequence flow leaving this element goes to {0}, which is not in the same process",
    ),
    (
        r"SpiffWorkflow could not read the diagram \(NotImplementedError: Unsupported Catch Event",
        "a boundary event needs an event definition (a timer, error or escalation)",
    ),
]
