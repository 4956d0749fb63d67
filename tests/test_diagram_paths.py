"""Every bundled diagram runs its approval path with its state serialized and restored after each step."""

import json
from datetime import date

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from domain.calendar.deadlines import china_day
from domain.courses.enrolment import Enrolment
from domain.courses.filing import CourseApplication
from domain.courses.filing import open_course_filing
from domain.courses.filing import process_data
from domain.courses.records import Course
from domain.courses.score_files import ScoreLine
from domain.courses.scores import CheckedScores
from domain.courses.scores import open_submission
from domain.courses.scores import process_data as score_process_data
from domain.organisations.records import Organisation
from domain.registration.applications import OrganisationApplication
from domain.registration.applications import PersonApplication
from domain.registration.applications import open_organisation_application
from domain.registration.applications import open_person_application
from engine.diagrams.parsing import parse_diagram
from engine.runtime.context import CommandContext
from engine.runtime.store import dump_workflow
from engine.runtime.store import load_workflow
from seed.courses import enrolled_course
from tests.conftest import BPMN_DIR

DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))


def _employer_application(session, now):
    authority = Organisation(kind="authority", name="叶县卫健委", region_code="410422", created_at=now)
    session.add(authority)
    session.flush()
    application = OrganisationApplication(
        kind="employer",
        name="路径测试单位",
        region_code="410422",
        credit_code=None,
        admin_username="path-hr",
        admin_password="secret-123",
        admin_name="路径",
        authority_id=authority.id,
    )
    org_id, user_id = open_organisation_application(session, application, now)
    return {"organisation_id": org_id, "kind": "employer", "initiator_id": user_id}


def _person_application(session, now):
    employer = session.scalar(select(Organisation).where(Organisation.kind == "employer"))
    application = PersonApplication(
        id_number="410402198506120016",
        name="路径",
        employer_id=employer.id,
        title_level="junior",
        title_series="",
        password="secret-123",
    )
    person_id, user_id = open_person_application(session, application, now)
    hrss = session.scalar(select(Organisation.id).where(Organisation.kind == "hrss"))
    return {"person_id": person_id, "employer_id": employer.id, "initiator_id": user_id, "hrss_id": hrss}


def _course_filing(session, now):
    base = Organisation(kind="institution", name="路径测试基地", region_code="410422", created_at=now)
    base.status = "active"
    session.add(base)
    session.flush()
    application = CourseApplication("路径课程", "public", 8, "online", china_day(now).year, 0)
    course = open_course_filing(session, base, application, now, None)
    return process_data(session, course, base)  # a county CE base: both the county's and the city's step


def _score_submission(session, now):
    scene = enrolled_course(session, region_code="410422", persons=1, now=now)
    course = session.get(Course, scene.course_id)
    enrolment_id = session.scalar(select(Enrolment.id).where(Enrolment.course_id == course.id))
    _person, number, name = scene.persons[0]
    line = ScoreLine(2, number, name, "90", True, course.hours, date(course.year, 6, 30))
    checked = CheckedScores([(enrolment_id, line)], [], [])
    submission = open_submission(
        session,
        course,
        checked,
        source="file",
        file_name="路径.csv",
        sha256=None,
        file_key=None,
        by_id=None,
        now=now,
    )
    return score_process_data(session, course, submission)  # reviewed by the city that approved the course


BUSINESS_RECORDS = {
    "register_organisation": _employer_application,
    "register_person": _person_application,
    "course_filing": _course_filing,
    "score_submission": _score_submission,
}


def round_trip(workflow, parsed, ctx):
    """Serialize, restore and serialize again; the two serializations must be identical."""
    state = dump_workflow(workflow)
    restored = load_workflow(state, parsed.spec, parsed.subprocess_specs, ctx.script_engine())
    assert json.loads(dump_workflow(restored)) == json.loads(state)
    return restored


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_diagram_runs_to_its_end_with_a_round_trip_after_every_step(path, rt, world, session_factory):
    parsed = parse_diagram(path.read_bytes(), path.name)
    with session_factory() as session:
        ctx = CommandContext(rt, session, None)
        workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=ctx.script_engine())
        start = {"initiator_id": world["applicant"], "region_code": "410422", "subject": "路径测试"}
        start.update(BUSINESS_RECORDS.get(path.stem, lambda s, c: {})(session, rt.clock()))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(start)
        workflow.do_engine_steps()
        visited = []
        for _step in range(50):
            workflow = round_trip(workflow, parsed, ctx)
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            task = ready[0]
            visited.append(task.task_spec.bpmn_id)
            task.data.update({"decision": "approve", "subject": "路径测试", "range_size": 10})
            task.data.update(last_actor_organisation_id=start.get("hrss_id"))
            task.run()
            workflow.do_engine_steps()
        workflow = round_trip(workflow, parsed, ctx)
        session.rollback()
    assert workflow.completed, f"stopped after {visited}"
    assert visited, "the path visited no user task"
