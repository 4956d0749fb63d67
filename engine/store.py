"""Keep workflows in the instance row: serialized without their spec, saved with optimistic locking."""

import json
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import update

from engine.models import ProcessInstance


class VersionConflict(Exception):
    """The instance changed since it was loaded: another command won the race."""


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Serialize a workflow's state only; the spec belongs to the definition version and is cached."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
    SpecFreeWorkflowConverter(BpmnWorkflow, registry)
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _make_serializer()
FORMAT_KEY = "ceflow_state_format"
FORMAT = 1


def dump_workflow(workflow: BpmnWorkflow) -> str:
    """Return the workflow's state as JSON, without its spec."""
    serializer = SERIALIZER
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
    finally:
        serializer.registry._encoder_mode = False
    dct[FORMAT_KEY] = FORMAT
    return json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))


def load_workflow(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    """Restore a workflow from its state and its cached spec, with a fresh script engine attached."""
    dct = json.loads(state)
    dct.pop(FORMAT_KEY, None)
    workflow = SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def save_state(session, instance: ProcessInstance, workflow: BpmnWorkflow, now) -> None:
    """Write the workflow into its row if nobody else did since it was loaded, else raise VersionConflict."""
    expected = instance.version
    result = session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance.id, ProcessInstance.version == expected)
        .values(state=dump_workflow(workflow), version=expected + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise VersionConflict(instance.id)
    session.expire(instance)
