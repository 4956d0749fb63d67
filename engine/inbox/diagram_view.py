"""An instance's diagram and how far it got, from SQL and the diagram text alone (never a workflow load)."""

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from SpiffWorkflow.bpmn.parser.util import BPMN_MODEL_NS
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from engine.diagrams.parsing import read_untrusted_xml
from engine.errors import NotAllowed
from engine.errors import TaskNotFound
from engine.runtime.models import DONE
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessDefinition
from engine.runtime.models import ProcessInstance
from engine.tasks.visibility import may_view
from engine.tasks.visibility import may_view_instance

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
USER_STEPS = frozenset({"userTask", "manualTask"})
ALWAYS_WITH_OPINION = frozenset({"return", "reject"})


@dataclass(frozen=True)
class DiagramView:
    """The diagram an instance runs on, with the bpmn ids of the steps done and the steps waiting."""

    xml: str
    completed: tuple[str, ...]
    current: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    bpmn_id: str
    name: str


@dataclass(frozen=True)
class TaskFacts:
    """What the task page offers beyond the task itself: return targets and where an opinion is needed."""

    return_steps: tuple[Step, ...]
    opinion_required: frozenset[str]


@dataclass(frozen=True)
class HeldTask:
    id: int
    instance_id: int


@dataclass
class _Graph:
    kinds: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    outgoing: dict[str, list[str]] = field(default_factory=dict)
    incoming: dict[str, list[str]] = field(default_factory=dict)
    starts: set[str] = field(default_factory=set)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)


def held_open_task(session: Session, actor: Actor, task_id: int) -> HeldTask:
    """Return the open task the actor works; TaskNotFound if they may not see it, NotAllowed if not theirs."""
    row = session.get(HumanTask, task_id)
    if row is None or not may_view(session, row, actor):
        raise TaskNotFound(task_id)
    if row.state != "open" or row.assignee_id != actor.id:
        raise NotAllowed("not_working_task")
    return HeldTask(row.id, row.instance_id)


def instance_diagram(session: Session, actor: Actor, instance_id: int) -> DiagramView:
    """Return the diagram of the version the instance runs on, with its progress; TaskNotFound if hidden."""
    if not may_view_instance(session, actor, instance_id):
        raise TaskNotFound(instance_id)
    xml, status = session.execute(
        select(ProcessDefinition.bpmn_xml, ProcessInstance.status)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.id == instance_id)
    ).one()
    graph = _graph(xml)
    done, current, fired = _recorded_steps(session, instance_id)
    completed = _completed(graph, done, current, fired, ended=status == "completed")
    return DiagramView(xml, tuple(sorted(completed - current)), tuple(sorted(current)))


def task_facts(session: Session, actor: Actor, task_id: int) -> TaskFacts:
    """Return the earlier user steps a task can be returned to (first done first) and its opinion rules."""
    row = session.get(HumanTask, task_id)
    if row is None or not may_view(session, row, actor):
        raise TaskNotFound(task_id)
    xml = session.scalar(
        select(ProcessDefinition.bpmn_xml)
        .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
        .where(ProcessInstance.id == row.instance_id)
    )
    graph = _graph(xml)
    earlier = _upstream(graph, row.spec_name) - {row.spec_name}
    steps = {}
    for bpmn_id, name in _done_user_steps(session, row.instance_id):
        if bpmn_id in earlier and graph.kinds.get(bpmn_id) in USER_STEPS:
            steps.setdefault(bpmn_id, Step(bpmn_id, name or graph.names.get(bpmn_id) or bpmn_id))
    listed = graph.properties.get(row.spec_name, {}).get("opinionRequired", "")
    required = ALWAYS_WITH_OPINION | {a.strip() for a in listed.split(",") if a.strip()}
    return TaskFacts(tuple(steps.values()), frozenset(required))


def _recorded_steps(session: Session, instance_id: int) -> tuple[set[str], set[str], set[str]]:
    """Return (user steps done, user steps open, timers fired) as the rows and audit trail record them."""
    rows = session.execute(
        select(HumanTask.spec_name, HumanTask.state).where(HumanTask.instance_id == instance_id)
    ).all()
    done = {spec for spec, state in rows if state == "done"}
    current = {spec for spec, state in rows if state == "open"}
    fired = set()
    for action, details, _at in _events(session, instance_id, ("submit", "timer_fired")):
        if action == "submit" and details.get("step"):
            done.add(details["step"])
        elif action == "timer_fired" and details.get("timer"):
            fired.add(details["timer"])
    return done, current, fired


def _events(session: Session, instance_id: int, actions: Iterable[str]) -> list[tuple[str, dict, datetime]]:
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.details, AuditEvent.created_at)
        .where(AuditEvent.instance_id == instance_id, AuditEvent.action.in_(tuple(actions)))
        .order_by(AuditEvent.id)
    )
    return [(action, details or {}, at) for action, details, at in rows]


def _done_user_steps(session: Session, instance_id: int) -> list[tuple[str, str | None]]:
    """Return (bpmn id, name) of finished user steps, in the order they were first finished."""
    rows = session.execute(
        select(HumanTask.completed_at, HumanTask.id, HumanTask.spec_name, HumanTask.name).where(
            HumanTask.instance_id == instance_id, HumanTask.state == DONE
        )
    ).all()
    finished = [tuple(row) for row in rows]
    for _action, details, at in _events(session, instance_id, ("submit",)):
        if details.get("step"):  # a first step submitted with the start has no row
            finished.append((at, 0, details["step"], None))
    return [(spec, name) for _at, _id, spec, name in sorted(finished, key=lambda f: (f[0], f[1]))]


def _completed(graph: _Graph, done: set, current: set, fired: set, ended: bool) -> set[str]:
    """Add to the recorded steps the events, gateways and service steps the process must have passed."""
    origins = done | fired | graph.starts
    forward = _reach(graph, graph.outgoing, origins)
    ends = {node for node in forward if graph.kinds.get(node) == "endEvent"}
    if not ended:  # a running process only reached the ends of fired timer paths
        ends &= _reach(graph, graph.outgoing, fired)
    backward = _reach(graph, graph.incoming, done | current | ends)
    return origins | ends | (forward & backward)


def _reach(graph: _Graph, edges: dict[str, list[str]], seeds: set[str]) -> set[str]:
    """Return the nodes reachable from the seeds without passing a user step or another seed."""
    seen: set[str] = set()
    stack = [node for seed in seeds for node in edges.get(seed, ())]
    while stack:
        node = stack.pop()
        if node in seen or node in seeds or graph.kinds.get(node) in USER_STEPS:
            continue
        seen.add(node)
        stack.extend(edges.get(node, ()))
    return seen


def _upstream(graph: _Graph, node: str) -> set[str]:
    """Return every node from which the process can come to this one."""
    seen: set[str] = set()
    stack = list(graph.incoming.get(node, ()))
    while stack:
        each = stack.pop()
        if each not in seen:
            seen.add(each)
            stack.extend(graph.incoming.get(each, ()))
    return seen


def _graph(xml: str) -> _Graph:
    """Read the flow nodes, sequence flows, start events and spiffworkflow properties of a diagram."""
    root = read_untrusted_xml(xml.encode("utf-8"))
    graph = _Graph()
    for process in root.iter(f"{{{BPMN_MODEL_NS}}}process", f"{{{BPMN_MODEL_NS}}}subProcess"):
        for element in process:
            _add_element(graph, element, process.tag.endswith("}process"))
    return graph


def _add_element(graph: _Graph, element, top_level: bool) -> None:
    if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{BPMN_MODEL_NS}}}"):
        return
    kind, node = element.tag.rpartition("}")[2], element.get("id")
    if kind == "sequenceFlow":
        source, target = element.get("sourceRef"), element.get("targetRef")
        graph.outgoing.setdefault(source, []).append(target)
        graph.incoming.setdefault(target, []).append(source)
        return
    if node is None or kind in ("laneSet", "extensionElements", "documentation"):
        return
    graph.kinds[node] = kind
    graph.names[node] = element.get("name") or ""
    if kind == "startEvent" and top_level:
        graph.starts.add(node)
    if kind in USER_STEPS:
        graph.properties[node] = {
            p.get("name"): p.get("value") or "" for p in element.iter(f"{{{SPIFF_NS}}}property")
        }
