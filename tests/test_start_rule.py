"""Who may start a process by hand: the start event's `starters` rule, enforced where every start passes."""

import pytest

from engine.diagrams.settings import RoleRule
from engine.diagrams.settings import starters
from engine.errors import DiagramRefused
from engine.errors import NotAllowed
from engine.runtime import unit_of_work
from engine.runtime.definitions import deploy
from engine.tasks import permissions
from engine.tasks.permissions import Seat
from services.processes import start_process
from tests.conftest import BPMN_DIR


def test_a_start_rule_reads_kind_level_and_role():
    rule = starters({"starters": "employer:hr, hrss.county:reviewer, person"})
    assert rule == (
        RoleRule("employer", None, "hr"),
        RoleRule("hrss", "county", "reviewer"),
        RoleRule("person"),
    )
    assert starters({}) == ()  # no rule: nobody starts it by hand (a service may)


@pytest.mark.parametrize(
    ("seat", "allowed"),
    [
        (Seat("employer", "county", frozenset({"hr"})), True),
        (Seat("employer", "county", frozenset({"admin"})), False),
        (Seat("hrss", "county", frozenset({"reviewer"})), True),
        (Seat("hrss", "city", frozenset({"reviewer"})), False),
        (Seat("person", None, frozenset()), True),
        (Seat("admin", None, frozenset()), False),
    ],
)
def test_a_seat_may_start_only_what_the_rule_names(seat, allowed):
    rule = starters({"starters": "employer:hr,hrss.county:reviewer,person"})
    assert permissions.seated(seat, rule) is allowed


def test_a_deploy_refuses_a_start_rule_it_cannot_read(rt):
    text = (BPMN_DIR / "demo_approval.bpmn").read_text(encoding="utf-8")
    bad = text.replace("employer:hr,employer:admin", "employer:hr,employer.town:admin,boss")
    with pytest.raises(DiagramRefused) as refused:
        deploy(rt, bad.encode("utf-8"), "demo_approval.bpmn", "test")
    reasons = " ".join(reason for _element, reason in refused.value.problems)
    assert "employer.town:admin" in reasons and "'boss'" in reasons


def test_an_hrss_reviewer_may_not_start_the_employers_process(rt, actor):
    with pytest.raises(NotAllowed) as refused:
        start_process(rt, "demo_approval", actor("410422-reviewer"), {"subject": "审核员自己发起"})
    assert refused.value.code == "start_refused"


def test_an_employer_hr_starts_it_and_the_system_may_too(rt, actor):
    assert start_process(rt, "demo_approval", actor("applicant"), {"subject": "单位发起"}) > 0
    with unit_of_work(rt, write=False) as session:
        seat = permissions.seat_of(session, actor("applicant"))
        assert seat == Seat("employer", "county", frozenset({"hr"}))
        assert permissions.startable(rt, session, seat) == frozenset({"demo_approval"})


def test_uses_give_the_menu_of_a_role():
    professional = permissions.uses(Seat("person", None, frozenset()))
    assert professional == {"inbox", "my_applications", "my_courses", "courses", "policy", "notices"}
    institution = permissions.uses(Seat("institution", "county", frozenset({"admin"})))
    assert {"file_course", "courses"} <= institution and "enrol_persons" not in institution
    hr = permissions.uses(Seat("employer", "county", frozenset({"hr"})))
    assert "enrol_persons" in hr and "file_course" not in hr
    admin = permissions.uses(Seat("admin", None, frozenset()))
    assert {"oversight", "processes", "holidays", "incidents"} <= admin and "inbox" not in admin
    city = permissions.uses(Seat("hrss", "city", frozenset({"reviewer"})))
    county = permissions.uses(Seat("hrss", "county", frozenset({"approver"})))
    assert "policy_edit" in city and "policy_edit" not in county and "review_persons" not in county
