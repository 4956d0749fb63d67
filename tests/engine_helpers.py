"""Small readers the engine tests share: inbox rows, audit events, notices, instance state."""

from sqlalchemy import select

from domain.notices.records import Notice
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TimerJob


def open_tasks(session_factory, instance_id):
    with session_factory() as s:
        q = select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        return list(s.execute(q.order_by(HumanTask.id)).scalars())


def only_open_task(session_factory, instance_id):
    tasks = open_tasks(session_factory, instance_id)
    assert len(tasks) == 1, [t.spec_name for t in tasks]
    return tasks[0]


def audit_actions(session_factory, instance_id):
    with session_factory() as s:
        q = select(AuditEvent.action).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(s.execute(q).scalars())


def audit_events(session_factory, instance_id, action):
    """Return the instance's audit events of one action, oldest first."""
    with session_factory() as s:
        q = select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.action == action)
        return list(s.scalars(q.order_by(AuditEvent.id)))


def notices(session_factory, recipient=None, kind=None):
    """Return the notices to a principal and/or of a kind, oldest first."""
    q = select(Notice).order_by(Notice.id)
    if recipient is not None:
        q = q.where(Notice.recipient == recipient)
    if kind is not None:
        q = q.where(Notice.kind == kind)
    with session_factory() as s:
        return list(s.scalars(q))


def instance(session_factory, instance_id):
    with session_factory() as s:
        return s.get(ProcessInstance, instance_id)


def timer_jobs(session_factory, instance_id):
    with session_factory() as s:
        q = select(TimerJob).where(TimerJob.instance_id == instance_id).order_by(TimerJob.due_at)
        return list(s.execute(q).scalars())


def review_then(process_id: str, after: str) -> bytes:
    """Return a diagram: start -> a county HRSS review (flow a) -> `after`, which takes flow b to its end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="t">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:laneSet><bpmn:lane id="l" name="region_hrss_reviewer">
      <bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="review" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="a" sourceRef="start" targetRef="review" />
    {after}
  </bpmn:process>
</bpmn:definitions>
""".encode()
