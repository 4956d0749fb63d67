"""Deploying a diagram: unsafe or unrunnable files are refused with the element and the reason, and
nothing is stored; good files become a new version while running instances stay on theirs."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.diagrams.parsing import MAX_BPMN_BYTES
from engine.errors import DiagramRefused
from engine.runtime.definitions import deploy
from engine.runtime.definitions import latest_definition
from engine.runtime.models import ProcessDefinition
from engine.tasks.commands import complete_task
from engine.tasks.commands import start_instance
from tests.conftest import BPMN_DIR
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task

DEMO = (BPMN_DIR / "demo_approval.bpmn").read_bytes()
CEFLOW = os.path.join(os.path.dirname(sys.executable), "ceflow")
USER_TASK = """<bpmn:userTask id="x" name="审核">
  <bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="formKey" value="review" />
  </spiffworkflow:properties></bpmn:extensionElements>
</bpmn:userTask>"""


def diagram(element: str = USER_TASK, lane: str | None = "申请人", extra: str = "", head: str = "") -> bytes:
    """A process start -> x -> end, with x in the given lane; `extra` adds elements to the process."""
    lanes = (
        f'<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="{lane}"><bpmn:flowNodeRef>x</bpmn:flowNodeRef>'
        "</bpmn:lane></bpmn:laneSet>"
        if lane
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>{head}
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:message id="m" name="document_arrived" />
  <bpmn:process id="small" name="小流程" isExecutable="true">
    {lanes}
    <bpmn:startEvent id="start" />
    {element}
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x" />
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end" />
    {extra}
  </bpmn:process>
</bpmn:definitions>""".encode()


def refusal(rt, data: bytes) -> list[tuple[str, str]]:
    """Deploy and return the problems; fail when the diagram is deployed."""
    with pytest.raises(DiagramRefused) as refused:
        deploy(rt, data, "test.bpmn", "test")
    return refused.value.problems


def stored_versions(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(ProcessDefinition))


def test_the_small_test_diagram_itself_deploys(rt):
    assert deploy(rt, diagram(), "small.bpmn", "test").version == 1


BILLION_LAUGHS = """<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>"""
XINCLUDE = '<{0}:include xmlns:{0}="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
UNSAFE = {
    "doctype": diagram(head="<!DOCTYPE definitions>"),
    "billion_laughs": diagram(head=BILLION_LAUGHS, element=USER_TASK.replace('name="审核"', 'name="&lol4;"')),
    "external_entity": diagram(
        head='<!DOCTYPE d [<!ENTITY passwd SYSTEM "file:///etc/passwd">]>',
        element=USER_TASK.replace('name="审核"', 'name="&passwd;"'),
    ),
    "xinclude": diagram(extra=XINCLUDE.format("xi")),
    "xinclude_under_another_prefix": diagram(extra=XINCLUDE.format("inc")),
}


@pytest.mark.parametrize("name", UNSAFE)
def test_doctype_entities_and_xinclude_are_refused_before_parsing_and_nothing_is_stored(
    name, rt, session_factory
):
    before = stored_versions(session_factory)
    [(element, reason)] = refusal(rt, UNSAFE[name])
    assert element == "" and "is not allowed in a diagram" in reason  # said by the scan that precedes lxml
    assert stored_versions(session_factory) == before


def test_a_file_over_the_size_bound_is_refused(rt, session_factory):
    before = stored_versions(session_factory)
    padding = b"<!-- " + b"x" * MAX_BPMN_BYTES + b" -->"
    [(_, reason)] = refusal(rt, diagram() + padding)
    assert f"at most {MAX_BPMN_BYTES} are accepted" in reason
    assert stored_versions(session_factory) == before


def test_malformed_xml_is_refused_saying_where(rt):
    [(element, reason)] = refusal(rt, diagram().replace(b"</bpmn:process>", b""))
    assert element == ""
    assert reason.startswith("the file is not well-formed XML:") and "line" in reason


def test_a_text_not_in_utf8_is_refused(rt):
    text = diagram().decode().replace('encoding="UTF-8"', 'encoding="GBK"')
    [(_, reason)] = refusal(rt, text.encode("gbk"))
    assert "UTF-8" in reason


def test_a_process_not_marked_executable_is_refused_saying_how_to_fix_it(rt):
    [(element, reason)] = refusal(rt, diagram().replace(b'isExecutable="true"', b'isExecutable="false"'))
    assert element == "small" and 'mark it isExecutable="true"' in reason


def user_task_with(properties: str) -> str:
    return USER_TASK.replace('<spiffworkflow:property name="formKey" value="review" />', properties)


UNRUNNABLE = {
    "user task without formKey": (diagram(user_task_with("")), "no formKey"),
    "user task with an unknown formKey": (
        diagram(user_task_with('<spiffworkflow:property name="formKey" value="no_such_form" />')),
        "form key 'no_such_form' is not in the form catalog",
    ),
    "user task in no lane": (diagram(lane=None), "in no lane"),
    "user task in an unknown lane": (diagram(lane="财务科"), "lane or candidates rule '财务科' is unknown"),
    "service task with an unknown operation": (
        diagram(
            '<bpmn:serviceTask id="x"><bpmn:extensionElements>'
            '<spiffworkflow:serviceTaskOperator id="transfer_funds" />'
            "</bpmn:extensionElements></bpmn:serviceTask>"
        ),
        "service operation 'transfer_funds' is not registered",
    ),
    "script task importing os": (
        diagram('<bpmn:scriptTask id="x"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'),
        "script:",
    ),
    "script task without a script": (diagram('<bpmn:scriptTask id="x" />'), "script task has no script"),
    "gateway condition calling __import__": (
        diagram(
            '<bpmn:exclusiveGateway id="x" default="f2" />',
            extra='<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="end">'
            "<bpmn:conditionExpression>__import__('os').system('id')</bpmn:conditionExpression>"
            "</bpmn:sequenceFlow>",
        ),
        '"__import__" is an invalid variable name',
    ),
    "invalid timer duration": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
            "<bpmn:timeDuration>PXYZ</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        ),
        "PXYZ is not an ISO 8601 duration",
    ),
    "timer duration too long to arm": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
            "<bpmn:timeDuration>P99999999Y</bpmn:timeDuration></bpmn:timerEventDefinition>"
            "</bpmn:intermediateCatchEvent>"
        ),
        "longer than 100 years",
    ),
    "cycle timer": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
            "<bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        ),
        "cycle timers are not supported",
    ),
    "message catch event": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:messageEventDefinition messageRef="m" />'
            "</bpmn:intermediateCatchEvent>"
        ),
        "message and signal catch events are not supported",
    ),
    "message throw event": (
        diagram(
            '<bpmn:intermediateThrowEvent id="x"><bpmn:messageEventDefinition messageRef="m" />'
            "</bpmn:intermediateThrowEvent>"
        ),
        "message and signal throw events are not supported",
    ),
    "message event naming no message": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:messageEventDefinition />'
            "</bpmn:intermediateCatchEvent>"
        ),
        "message and signal catch events are not supported",
    ),
    "timer without a time": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition /></bpmn:intermediateCatchEvent>'
        ),
        "the timer has no time",
    ),
    "plain task without formKey (it waits for a person too)": (
        diagram('<bpmn:task id="x" name="登记" />'),
        "a plain task waits for a person",
    ),
    "user task with a priority that is not a number": (
        diagram(
            user_task_with(
                '<spiffworkflow:property name="formKey" value="review" />'
                '<spiffworkflow:property name="priority" value="high" />'
            )
        ),
        "priority 'high' is not a whole number",
    ),
    "timer date given a duration": (
        diagram(
            '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
            "<bpmn:timeDate>P5D</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        ),
        "timer date P5D is a duration",
    ),
    "two elements with one id": (diagram(extra='<bpmn:task id="x" />'), "2 elements have the id x"),
    "two flows leaving a task without a gateway": (
        diagram(extra='<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="end" />'),
        "2 sequence flows leave this bpmn:userTask",
    ),
}


@pytest.mark.parametrize("case", UNRUNNABLE)
def test_an_element_that_cannot_run_here_is_refused_with_its_id(case, rt):
    data, expected = UNRUNNABLE[case]
    problems = refusal(rt, data)
    assert any(element == "x" and expected in reason for element, reason in problems), problems


MESSAGE_START = (
    b'<bpmn:startEvent id="start"><bpmn:messageEventDefinition messageRef="m" /></bpmn:startEvent>'
)


def test_a_message_start_event_is_refused_with_its_id(rt):
    data = diagram().replace(b'<bpmn:startEvent id="start" />', MESSAGE_START)
    assert ("start", "message and signal catch events are not supported: nothing delivers them") in refusal(
        rt, data
    )


def test_a_sequence_flow_to_a_missing_element_is_refused_with_the_flow_id(rt):
    data = diagram(extra='<bpmn:sequenceFlow id="f3" sourceRef="x" targetRef="nowhere" />')
    assert ("f3", "targetRef names 'nowhere', which is not an element of this file") in refusal(rt, data)


def test_every_problem_is_listed_not_only_the_first(rt):
    data = diagram(lane="财务科", element=user_task_with(""))
    reasons = [reason for element, reason in refusal(rt, data) if element == "x"]
    assert len(reasons) == 2


def test_a_refused_deploy_leaves_the_previous_version_active_and_stores_nothing(rt, session_factory):
    broken = DEMO.replace(b'value="demo_application"', b'value="no_such_form"')
    before = stored_versions(session_factory)
    assert ("submit", "form key 'no_such_form' is not in the form catalog") in refusal(rt, broken)
    assert stored_versions(session_factory) == before
    with session_factory() as session:
        assert latest_definition(session, "demo_approval").version == 1


def test_deploying_identical_text_again_makes_no_new_version(rt, session_factory):
    before = stored_versions(session_factory)
    again = deploy(rt, DEMO, "demo_approval.bpmn", "test")
    assert again.unchanged and again.version == 1
    assert stored_versions(session_factory) == before


def test_a_changed_diagram_becomes_version_2_while_running_instances_stay_on_version_1(
    rt, actor, session_factory
):
    # version 2 skips the city approval: county review goes straight to the notice
    skip_city = DEMO.replace(
        b'sourceRef="county_review" targetRef="city_approval"',
        b'sourceRef="county_review" targetRef="notify"',
    )
    with session_factory() as session:
        v1 = latest_definition(session, "demo_approval").id
    applicant = actor("applicant")
    iid = start_instance(rt, "demo_approval", applicant, {"subject": "版本测试"})
    v2 = deploy(rt, skip_city, "demo_approval.bpmn", "test")
    assert (v2.version, v2.unchanged) == (2, False)

    complete_task(rt, applicant, only_open_task(session_factory, iid).id, {"subject": "版本测试"})
    complete_task(rt, actor("410422-reviewer"), only_open_task(session_factory, iid).id, {}, "同意")
    assert only_open_task(session_factory, iid).spec_name == "city_approval"  # version 1's path
    assert instance(session_factory, iid).definition_id == v1

    newer = start_instance(rt, "demo_approval", applicant, {"subject": "新版本"})
    assert instance(session_factory, newer).definition_id == v2.definition_id


@pytest.fixture(scope="module")
def ceflow(tmp_path_factory):
    """Run the console script against its own fresh SQLite database."""
    env = dict(os.environ, CEFLOW_DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('deploy')}/cli.db")

    def run(*args):
        return subprocess.run([CEFLOW, *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("init-db").returncode == 0
    return run


def test_cli_deploy_of_the_demo_diagram_exits_0(ceflow):
    result = ceflow("deploy", str(BPMN_DIR / "demo_approval.bpmn"))
    assert result.returncode == 0, result.stderr
    assert "demo_approval version 1 unchanged" in result.stdout


def test_cli_deploy_of_a_refused_file_exits_2_with_each_problem_on_its_own_line(ceflow, tmp_path):
    path = tmp_path / "broken.bpmn"
    path.write_bytes(diagram(lane="财务科", element=user_task_with("")))
    result = ceflow("deploy", str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}: refused"
    assert lines[1].startswith("  x: user task has no formKey")
    assert lines[2].startswith("  x: lane or candidates rule '财务科' is unknown")
    assert len(lines) == 3 and "Traceback" not in result.stderr


def test_a_task_whose_id_is_also_an_operation_name_is_refused_saying_so(rt):
    task = (
        '<bpmn:serviceTask id="x"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="notify_applicant" />'
        "</bpmn:extensionElements></bpmn:serviceTask>"
    )
    [(element, reason)] = refusal(rt, diagram(task, lane=None).replace(b'"x"', b'"notify_applicant"'))
    assert element == "notify_applicant"
    assert (
        "also the id of spiffworkflow:serviceTaskOperator" in reason
        and "give the BPMN element another id" in reason
    )


def timer_event(expression: str, kind: str = "timeDate") -> bytes:
    return diagram(
        '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[1 for i in range(10**12)]", "cannot be evaluated"),
        ("working_days(10**9)", "cannot be evaluated: a deadline is 0 to 25,000 working days ahead"),
        ("'x' * 10**10", "cannot be evaluated: This would build a sequence"),
        ("1 + 1", "gives 2, not an ISO 8601 duration or date-time"),
    ],
)
def test_a_timer_expression_that_runs_away_is_refused_at_deploy_not_at_start(
    rt, session_factory, expression, expected
):
    """Finding (hardening probe): `[1 for i in range(10**12)]` and `working_days(10**9)` deployed."""
    before = stored_versions(session_factory)
    problems = refusal(rt, timer_event(expression))
    assert any(element == "x" and expected in reason for element, reason in problems), problems
    assert stored_versions(session_factory) == before


@pytest.mark.parametrize(
    ("expression", "kind"),
    [("working_days(5)", "timeDate"), ("'P3D'", "timeDuration"), ("days_from_task_data", "timeDuration")],
)
def test_a_timer_expression_that_is_sound_or_needs_task_data_deploys(rt, expression, kind):
    deploy(rt, timer_event(expression, kind), "timer.bpmn", "test")


def test_a_date_expression_in_a_duration_timer_is_refused_at_deploy(rt):
    [(element, reason)] = refusal(rt, timer_event("working_days(5)", "timeDuration"))
    assert element == "x" and "is not an ISO 8601 duration" in reason


@pytest.mark.parametrize(
    ("due", "expected"),
    [("working_days(10**9)", "cannot be evaluated"), ("'soon'", "gives 'soon', not a date-time")],
)
def test_a_due_rule_that_runs_away_or_gives_no_date_is_refused_at_deploy(rt, due, expected):
    properties = (
        '<spiffworkflow:property name="formKey" value="review" />'
        f'<spiffworkflow:property name="due" value="{due}" />'
    )
    problems = refusal(rt, diagram(user_task_with(properties)))
    assert any(element == "x" and expected in reason for element, reason in problems), problems
