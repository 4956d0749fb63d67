"""The results API (R8): a training platform posts online-exam results with its institution's bearer token."""

from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from domain.calendar.policy import seed_policy_2015
from domain.courses.scores import ScoreSubmission
from engine.runtime.models import HumanTask
from seed.courses import enrolled_course
from services import scores
from webapp.extensions import runtime

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
def platform(app, session_factory):
    """Two CE bases' approved courses with enrolled persons, and the first base's API token."""
    with session_factory() as s, s.begin():
        seed_policy_2015(s, NOW)
        ours = enrolled_course(s, region_code="410422", persons=3, now=NOW, institution="叶县测试基地")
        theirs = enrolled_course(s, region_code="410423", persons=1, now=NOW, institution="鲁山测试基地")
    with app.app_context():
        token = scores.issue_token(runtime(), ours.institution_id, "test")
    return ours, theirs, {"Authorization": f"Bearer {token}"}


def results(persons):
    return [
        {
            "result_id": f"exam-{pid}",
            "id_number": number,
            "name": name,
            "score": 88,
            "passed": True,
            "hours": 12,
            "completed_on": "2025-06-30",
        }
        for pid, number, name in persons
    ]


def submissions(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(ScoreSubmission))


def test_the_same_results_posted_twice_are_taken_once_and_answered_alike(client, platform, session_factory):
    ours, _theirs, auth = platform
    url = f"/api/courses/{ours.course_id}/results"
    first = client.post(url, json={"results": results(ours.persons)}, headers=auth)
    assert first.status_code == 202, first.get_json()
    again = client.post(url, json={"results": results(ours.persons)}, headers=auth)
    assert (again.status_code, again.get_json()) == (202, first.get_json())
    assert first.get_json()["rows"] == 3 and submissions(session_factory) == 1


def test_bad_results_are_refused_whole_naming_each(client, platform, session_factory):
    ours, _theirs, auth = platform
    sent = results(ours.persons)
    sent[2]["name"] = "张冠李戴"
    answer = client.post(f"/api/courses/{ours.course_id}/results", json={"results": sent}, headers=auth)
    assert answer.status_code == 422
    [problem] = answer.get_json()["problems"]
    assert (problem["row"], problem["column"], problem["reason"]) == (3, "姓名", "score_name_mismatch")
    assert submissions(session_factory) == 0


def test_a_token_speaks_only_for_its_institution(client, platform):
    ours, theirs, auth = platform
    body = {"results": results(ours.persons)}
    assert client.post(f"/api/courses/{ours.course_id}/results", json=body).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.post(f"/api/courses/{ours.course_id}/results", json=body, headers=wrong).status_code == 401
    other = client.post(f"/api/courses/{theirs.course_id}/results", json=body, headers=auth)
    assert other.status_code == 404 and other.get_json()["reason"] == "score_course_not_found"


def test_only_the_approving_city_sees_the_review_another_county_gets_404(
    client, platform, session_factory, login_as
):
    ours, _theirs, auth = platform
    accepted = client.post(
        f"/api/courses/{ours.course_id}/results", json={"results": results(ours.persons)}, headers=auth
    )
    with session_factory() as s:
        task_id = s.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == accepted.get_json()["instance_id"])
        )
    lushan = login_as("lushan-reviewer", into=client.application.test_client())
    assert lushan.get(f"/api/inbox/tasks/{task_id}").status_code == 404
    assert lushan.get(f"/tasks/{task_id}").status_code == 404
    city = login_as("pds-reviewer", into=client.application.test_client())
    assert city.get(f"/api/inbox/tasks/{task_id}").status_code == 200
    assert city.get(f"/tasks/{task_id}").status_code == 200  # the task page: the same scope as the API
