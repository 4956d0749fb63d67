"""Deployed BPMN definitions: validate, store as a new version, and cache their parsed specs."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.diagrams import ParsedDiagram
from engine.diagrams import UnsafeDiagram
from engine.diagrams import parse_diagram
from engine.errors import DiagramRefused
from engine.errors import UnknownProcess
from engine.models import ProcessDefinition
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.validation import validate_diagram


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
    except Exception as error:  # SpiffWorkflow raises bare exceptions too: each becomes a reason
        raise DiagramRefused(source, [(_element_of(error), _reason_of(error))]) from error
    problems = validate_diagram(parsed, rt)
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
            source_name=source,
            deployed_by=deployed_by,
            deployed_at=rt.clock(),
        )
        session.add(row)
        session.flush()
        rt.spec_cache[row.id] = parsed
        return DeployedVersion(row.process_key, row.version, row.id, False)


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
    newest = (
        select(ProcessDefinition.process_key, func.max(ProcessDefinition.version).label("version"))
        .group_by(ProcessDefinition.process_key)
        .subquery()
    )
    rows = session.execute(
        select(ProcessDefinition).join(
            newest,
            (newest.c.process_key == ProcessDefinition.process_key)
            & (newest.c.version == ProcessDefinition.version),
        )
    ).scalars()
    return [DefinitionView(r.process_key, r.version, r.name, r.deployed_by, r.deployed_at) for r in rows]


def _latest(session: Session, process_key: str) -> ProcessDefinition | None:
    return session.execute(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_key == process_key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _element_of(error: Exception) -> str:
    return getattr(error, "id", "") or getattr(getattr(error, "task_spec", None), "bpmn_id", "") or ""


def _reason_of(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    line = getattr(error, "line_number", "")
    return f"{text} (line {line})" if line else text
