"""Incidents an administrator mends: retry the failed step once its cause is fixed, or end the instance."""

import pytest
from sqlalchemy import select

from domain.organisations.jurisdiction import NotVisible
from engine.errors import StepFailed
from engine.runtime.definitions import deploy
from engine.runtime.models import Incident
from engine.runtime.timer_jobs import RETRY_DELAYS
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from engine.tasks.incidents import incidents_for
from engine.timers.sweep import sweep_timers
from services.incidents import end_incident_instance
from services.incidents import retry_incidents
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task
from tests.engine_helpers import review_then

RECORDS_AFTER_REVIEW = review_then(
    "records_after_review",
    """<bpmn:serviceTask id="archive" name="归档">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="archive_application" />
      </bpmn:extensionElements>
      <bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="b" sourceRef="review" targetRef="archive" />
    <bpmn:sequenceFlow id="c" sourceRef="archive" targetRef="end" />""",
)


def archive_broken(session, data, now, **params):
    raise ConnectionError("archive service unreachable")


def archive_fixed(session, data, now, **params):
    return {"archived": True}


@pytest.fixture
def failed(rt, actor, session_factory):
    """An instance whose archiving step failed after the review was approved: one open incident."""
    rt.operations["archive_application"] = archive_broken
    deploy(rt, RECORDS_AFTER_REVIEW, "records_after_review.bpmn", "test")
    iid = start_instance(rt, "records_after_review", actor("applicant"), {"subject": "归档测试"})
    task = only_open_task(session_factory, iid)
    with pytest.raises(StepFailed, match="archive service unreachable"):
        complete_task(rt, actor("410422-reviewer"), task.id, {"note": "齐全"}, "同意")
    return iid


def incidents_of(session_factory, iid):
    with session_factory() as s:
        return s.scalars(select(Incident).where(Incident.instance_id == iid).order_by(Incident.id)).all()


def test_a_retry_after_the_handler_is_fixed_finishes_the_instance(rt, admin, session_factory, failed):
    [incident] = incidents_of(session_factory, failed)
    assert (incident.state, incident.tries, incident.step) == ("open", 1, "归档")
    rt.operations["archive_application"] = archive_fixed
    [outcome] = retry_incidents(rt, admin, [failed])
    assert outcome.ok
    assert instance(session_factory, failed).status == "completed"
    [incident] = incidents_of(session_factory, failed)
    assert (incident.state, incident.tries, incident.resolved_by) == ("resolved", 2, admin.id)
    assert audit_actions(session_factory, failed) == ["start", "approve", "retry"]


def test_a_retry_that_fails_again_counts_a_try_and_keeps_the_incident_open(
    rt, admin, session_factory, failed
):
    [outcome] = retry_incidents(rt, admin, [failed])
    assert not outcome.ok and outcome.error.code == "step_failed"
    [incident] = incidents_of(session_factory, failed)
    assert (incident.state, incident.tries) == ("open", 2)
    assert "archive service unreachable" in incident.message
    assert instance(session_factory, failed).status == "running"
    assert audit_actions(session_factory, failed) == ["start"]


def test_an_administrator_ends_the_failed_instance_with_a_reason(rt, admin, session_factory, failed):
    end_incident_instance(rt, admin, failed, "归档系统停用，人工归档")
    assert instance(session_factory, failed).status == "terminated"
    [incident] = incidents_of(session_factory, failed)
    assert (incident.state, incident.tries, incident.resolved_by) == ("resolved", 1, admin.id)
    assert audit_actions(session_factory, failed) == ["start", "terminate", "end_incident"]


def test_the_incident_list_shows_the_failed_step_to_administrators_only(
    rt, actor, admin, session_factory, failed
):
    with session_factory() as s:
        page = incidents_for(s, admin)
        [item] = page.items
        assert (item.instance_id, item.step, item.tries, item.state) == (failed, "归档", 1, "open")
        with pytest.raises(NotVisible):
            incidents_for(s, actor("410422-reviewer"))


def test_only_an_administrator_mends_an_incident(rt, actor, session_factory, failed):
    reviewer = actor("410422-reviewer")
    with pytest.raises(NotVisible):
        retry_incidents(rt, reviewer, [failed])
    with pytest.raises(NotVisible):
        end_incident_instance(rt, reviewer, failed, "不要了")
    assert [i.state for i in incidents_of(session_factory, failed)] == ["open"]


WAIT_THEN_ARCHIVE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="wait_then_archive" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="一小时后">
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:serviceTask id="archive" name="归档">
      <bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="archive_application" />
      </bpmn:extensionElements>
      <bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="archive" />
    <bpmn:sequenceFlow id="c" sourceRef="archive" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_a_timer_out_of_tries_fires_when_the_administrator_retries(rt, admin, clock, session_factory):
    rt.operations["archive_application"] = archive_broken
    deploy(rt, WAIT_THEN_ARCHIVE, "wait_then_archive.bpmn", "test")
    iid = start_instance(rt, "wait_then_archive", None, {"subject": "定时归档"})
    clock.advance(hours=1, seconds=1)
    for delay in (*RETRY_DELAYS, None):  # the step after the timer fails on every try
        assert sweep_timers(rt).failed == 1
        clock.advance(seconds=delay.total_seconds() + 1 if delay else 1)
    [incident] = incidents_of(session_factory, iid)
    assert (incident.command, incident.state, incident.step) == ("timer", "open", "wait")
    assert "archive service unreachable" in incident.message

    rt.operations["archive_application"] = archive_fixed
    [outcome] = retry_incidents(rt, admin, [iid])
    assert outcome.ok
    assert instance(session_factory, iid).status == "completed"
    [incident] = incidents_of(session_factory, iid)
    assert (incident.state, incident.resolved_by) == ("resolved", admin.id)
    assert audit_actions(session_factory, iid) == ["start", "timer_fired", "retry"]
    assert sweep_timers(rt).claimed == 0
