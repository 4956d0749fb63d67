"""Timer jobs fire exactly once: with two sweepers at once, and after a sweeper dies holding leases."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.runtime import unit_of_work
from engine.runtime.definitions import deploy
from engine.runtime.models import AuditEvent
from engine.runtime.models import Incident
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TimerJob
from engine.runtime.timer_jobs import LEASE
from engine.runtime.timer_jobs import RETRY_DELAYS
from engine.runtime.timer_jobs import claim_due_jobs
from engine.tasks.commands import start_instance
from engine.timers.sweep import sweep_timers
from tests.conftest import POSTGRES

WAIT_ONE_HOUR = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="wait_one_hour" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="one hour">
      <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="a" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def waiting(rt):
    """Deploy the one-hour wait and return a function that starts n instances of it."""
    deploy(rt, WAIT_ONE_HOUR, "wait_one_hour.bpmn", "test")

    def start(n: int) -> list[int]:
        return [start_instance(rt, "wait_one_hour", None, {"n": i}) for i in range(n)]

    return start


def fired_counts(session_factory):
    with session_factory() as s:
        audits = s.scalar(select(func.count()).where(AuditEvent.action == "timer_fired"))
        unfired = s.scalar(select(func.count()).where(TimerJob.fired_at.is_(None)))
        completed = s.scalar(select(func.count()).where(ProcessInstance.status == "completed"))
    return audits, unfired, completed


def test_a_timer_is_armed_from_the_engine_clock_and_fires_only_when_due(rt, waiting, clock, session_factory):
    [iid] = waiting(1)
    with session_factory() as s:
        job = s.scalars(select(TimerJob)).one()
    assert job.due_at == clock() + timedelta(hours=1)
    assert sweep_timers(rt).fired == 0
    clock.advance(hours=1, seconds=1)
    assert sweep_timers(rt).fired == 1
    assert sweep_timers(rt).fired == 0
    assert fired_counts(session_factory) == (1, 0, 1)


def test_two_sweepers_fire_each_of_many_timers_exactly_once(rt, waiting, clock, session_factory):
    count = 1000 if POSTGRES else 300
    waiting(count)
    clock.advance(hours=2)
    totals = {"a": 0, "b": 0}
    barrier = threading.Barrier(2)

    def sweeper(owner):
        barrier.wait()
        while (result := sweep_timers(rt, owner=owner, limit=25)).claimed:
            totals[owner] += result.fired

    threads = [threading.Thread(target=sweeper, args=(o,)) for o in totals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert totals["a"] + totals["b"] == count
    assert fired_counts(session_factory) == (count, 0, count)


def test_a_dead_sweepers_leases_expire_and_another_fires_them_once(rt, waiting, clock, session_factory):
    waiting(10)
    clock.advance(hours=2)
    with unit_of_work(rt) as session:
        held = claim_due_jobs(session, clock(), "sweeper-that-dies", limit=4)
    assert len(held) == 4  # it claimed four and then died without firing them
    assert sweep_timers(rt, owner="survivor").fired == 6
    assert fired_counts(session_factory) == (6, 4, 6)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert sweep_timers(rt, owner="survivor").fired == 4
    assert fired_counts(session_factory) == (10, 0, 10)
    with session_factory() as s:
        attempts = s.scalars(select(TimerJob.attempts).where(TimerJob.id.in_(held))).all()
    assert attempts == [2, 2, 2, 2]


def test_a_failing_timer_is_retried_after_a_backoff_and_then_parked(
    rt, waiting, clock, session_factory, monkeypatch
):
    [iid] = waiting(1)
    clock.advance(hours=2)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("engine.timers.sweep.fire_job", broken)
    for delay in RETRY_DELAYS:
        result = sweep_timers(rt)
        assert (result.claimed, result.fired, result.failed) == (1, 0, 1)
        clock.advance(seconds=delay.total_seconds() - 1)
        assert sweep_timers(rt).claimed == 0  # not before its wait is over
        clock.advance(seconds=2)
    assert sweep_timers(rt).failed == 1  # the last try
    with session_factory() as s:
        job = s.scalars(select(TimerJob)).one()
        incidents = s.scalars(select(Incident).where(Incident.instance_id == iid)).all()
    assert job.fired_at is None and job.gave_up_at == clock() and "database went away" in job.last_error
    assert job.attempts == len(RETRY_DELAYS) + 1
    assert [(i.command, i.state, i.step) for i in incidents] == [("timer", "open", "wait")]
    monkeypatch.undo()
    clock.advance(days=1)
    assert sweep_timers(rt).claimed == 0  # parked until an administrator retries (tests/test_incidents.py)


def test_a_timer_that_fails_once_fires_on_its_next_try(rt, waiting, clock, session_factory, monkeypatch):
    waiting(1)
    clock.advance(hours=2)
    monkeypatch.setattr("engine.timers.sweep.fire_job", lambda *a: 1 / 0)
    assert sweep_timers(rt).failed == 1
    monkeypatch.undo()
    clock.advance(seconds=RETRY_DELAYS[0].total_seconds() + 1)
    assert sweep_timers(rt).fired == 1
    assert fired_counts(session_factory) == (1, 0, 1)
    with session_factory() as s:
        assert s.scalars(select(Incident)).all() == []  # a passing fault troubles no one
