"""Rules for the restricted evaluator that runs the Python policy staff write in diagrams."""

import time

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.scripting.guards import ScriptTimeout
from engine.scripting.sandbox import RestrictedEnvironment
from engine.scripting.sandbox import ScriptRejected
from engine.scripting.sandbox import check_expression
from engine.scripting.sandbox import check_script

BUDGET = 0.2


def working_days(count):
    return f"{count} working days from now"


@pytest.fixture
def environment():
    return RestrictedEnvironment(functions={"working_days": working_days}, time_budget=BUDGET)


@pytest.fixture
def task_data():
    return {"x": 3, "name": "  Li Wei ", "decision": "approve", "items": [1, 2], "data": {}, "pair": (4, 5)}


def assert_nothing_escaped(context, before):
    """The task data kept its values and gained no builtins, guards or functions."""
    assert not [key for key in context if key.startswith("_")]
    assert not [key for key, value in context.items() if callable(value)]
    assert {key: context[key] for key in before} == before


REFUSED = [
    ("import os", "line 1: Import statements are not allowed."),
    ("from os import path", "line 1: Import statements are not allowed."),
    ("__import__('os')", '"__import__" is an invalid variable name'),
    ("open('/etc/passwd')", '"open" is not available to scripts: scripts have no file access.'),
    ("().__class__.__mro__[1].__subclasses__()", '"__class__" is an invalid attribute name'),
    ("x.__class__", '"__class__" is an invalid attribute name'),
    ("getattr(x, '__class__')", '"getattr" is not available to scripts'),
    ("eval('1')", "Eval calls are not allowed."),
    ("exec('x=1')", "Exec calls are not allowed."),
    ("compile('1', 'f', 'eval')", '"compile" is not available to scripts: scripts cannot create code.'),
    ("globals()", '"globals" is not available to scripts: scripts cannot inspect namespaces.'),
    ("type(x).__bases__", '"__bases__" is an invalid attribute name'),
    ("__builtins__", '"__builtins__" is an invalid variable name'),
    ("print(x)", '"print" is not available to scripts'),
    ("class Spy: pass", "Class definitions are not allowed."),
    ("y = (", "line 1: SyntaxError:"),
]


@pytest.mark.parametrize(("script", "reason"), REFUSED, ids=[script for script, _ in REFUSED])
def test_refused_script_never_runs(environment, task_data, script, reason):
    before = dict(task_data)

    assert any(reason in text for text in check_script(script))
    with pytest.raises(ScriptRejected, match="Script refused") as refusal:
        environment.execute(script, task_data)

    assert reason in str(refusal.value)
    assert task_data == before


REFUSED_EXPRESSIONS = [
    (text, reason) for text, reason in REFUSED if not text.startswith(("import", "from", "class"))
]


@pytest.mark.parametrize(
    ("expression", "reason"), REFUSED_EXPRESSIONS, ids=[e for e, _ in REFUSED_EXPRESSIONS]
)
def test_refused_expression_never_runs(environment, task_data, expression, reason):
    before = dict(task_data)

    assert any(reason in text for text in check_expression(expression))
    with pytest.raises(ScriptRejected, match="Expression refused"):
        environment.evaluate(expression, task_data)
    assert task_data == before


def test_refusal_lists_every_reason_with_its_line():
    text = "import os\nsecret = x.__class__"

    with pytest.raises(ScriptRejected) as refusal:
        RestrictedEnvironment().execute(text, {"x": 1})

    assert refusal.value.reasons == check_script(text)
    assert "line 1: Import statements are not allowed." in str(refusal.value)
    assert 'line 2: "__class__" is an invalid attribute name' in str(refusal.value)


def test_acceptable_text_has_no_reasons():
    assert check_expression('decision == "approve" and len(items) > 1') == []
    assert check_script("total = 0\nfor i in items:\n    total += i") == []


@pytest.mark.parametrize(
    ("script", "error", "message"),
    [
        ("kind = type(x)", NameError, "name 'type' is not defined"),
        ("run = eval", NameError, "name 'eval' is not defined"),
        ("base = object", NameError, "name 'object' is not defined"),
        ("leak = '{0.__class__}'.format(x)", NotImplementedError, "format"),
        ("missing = x.no_such_attribute", AttributeError, "no_such_attribute"),
    ],
)
def test_builtins_outside_the_sandbox_are_not_reachable_at_run_time(
    environment, task_data, script, error, message
):
    before = dict(task_data)

    with pytest.raises(error, match=message):
        environment.execute(script, task_data)

    assert_nothing_escaped(task_data, before)


ENDLESS_SCRIPTS = {
    "while": "while True: pass",
    "huge_range": "for i in range(10**12): pass",
    "sum_in_c": "total = sum(range(10**12))",
    "list_in_c": "numbers = list(range(10**9))",
    "nested_comprehension": "numbers = [1 for a in range(1000) for b in range(1000) for c in range(1000)]",
    "exponential_recursion": "def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1)\ntotal = f(100)",
    "exponential_lambda": "f = lambda n: 0 if n == 0 else f(n - 1) + f(n - 1)\ntotal = f(100)",
    "swallowed_by_except": "while True:\n try:\n  while True: pass\n except Exception:\n  pass",
    "swallowed_by_bare_except": "while True:\n try:\n  while True: pass\n except:\n  pass",
    "loop_in_finally": "try:\n    while True: pass\nfinally:\n    while True: pass",
}


@pytest.mark.parametrize("script", ENDLESS_SCRIPTS.values(), ids=ENDLESS_SCRIPTS.keys())
def test_endless_script_stops_at_its_time_budget(environment, task_data, script):
    before = dict(task_data)
    started = time.monotonic()

    with pytest.raises(ScriptTimeout, match="time budget"):
        environment.execute(script, task_data)

    assert time.monotonic() - started < BUDGET + 0.5
    assert_nothing_escaped(task_data, before)
    environment.execute("after = x + 1", task_data)
    assert task_data["after"] == 4


@pytest.mark.parametrize("expression", ["sum(range(10**12))", "max(i for i in range(10**12))"])
def test_endless_expression_stops_at_its_time_budget(environment, task_data, expression):
    started = time.monotonic()

    with pytest.raises(ScriptTimeout):
        environment.evaluate(expression, task_data)

    assert time.monotonic() - started < BUDGET + 0.5


@pytest.mark.parametrize(
    "script",
    [
        "s = 'x' * 10**10",
        "s = [0] * 10**10",
        "s = 'ab'\ns *= 10**10",
        "s = 2 ** 10**10",
        "s = pow(2, 10**10)",
        "s = 1 << 10**10",
        "s = sum([[0] * 10**6] * 10**6, [])",
    ],
)
def test_huge_values_are_refused_before_they_are_built(environment, task_data, script):
    before = dict(task_data)

    with pytest.raises(MemoryError, match="scripts may"):
        environment.execute(script, task_data)

    assert_nothing_escaped(task_data, before)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("(x + 2) * 3 - 1", 14),
        ("x / 2 + x // 2 + x % 2 + x**2", 12.5),
        ("x > 1 and decision == 'approve'", True),
        ("1 < x <= 3", True),
        ("name.strip().upper()", "LI WEI"),
        ("f'{name.strip()} ({x})'", "Li Wei (3)"),
        ("items[0] + items[-1] + len(items[1:])", 4),
        ("[i * x for i in items if i > 1]", [6]),
        ("{key: value for key, value in [('a', x)]}", {"a": 3}),
        ("sum(i for i in items if i < x)", 3),
        ("sorted([{'n': 2}, {'n': 1}], key=lambda row: row['n'])", [{"n": 1}, {"n": 2}]),
        ("min(pair) + max(items) + abs(-1) + round(2.6)", 10),
        ("'approve' in decision and any(items) and all(items)", True),
        ("working_days(5)", "5 working days from now"),
        ("working_days(*[5]) == working_days(**{'count': 5})", True),
        ("list(range(3)) + [i for i, _ in enumerate(zip(items, items))]", [0, 1, 2, 0, 1]),
    ],
)
def test_expressions_read_task_data(environment, task_data, expression, value):
    before = dict(task_data)

    assert environment.evaluate(expression, task_data) == value
    assert task_data == before


def test_script_results_land_in_task_data(environment, task_data):
    script = "\n".join(
        [
            'approved = decision == "approve"',
            'data["x"] = 1',
            "items.append(3)",
            "x += 1",
            "first, second = pair",
            "squares = [i * i for i in items]",
            "for index, item in enumerate(items):\n    last = (index, item)",
            "due = working_days(5)",
            "clean = name.strip()",
        ]
    )

    assert environment.execute(script, task_data) is True

    assert task_data["approved"] is True
    assert task_data["data"] == {"x": 1}
    assert task_data["items"] == [1, 2, 3]
    assert task_data["x"] == 4
    assert (task_data["first"], task_data["second"]) == (4, 5)
    assert task_data["squares"] == [1, 4, 9]
    assert task_data["last"] == (2, 3)
    assert task_data["due"] == "5 working days from now"
    assert task_data["clean"] == "Li Wei"


def test_functions_builtins_and_guards_are_not_left_in_task_data(environment, task_data):
    script = "def double(n):\n    return n * 2\ny = double(x)\nalias = working_days\ncount = len(items)"

    environment.execute(script, task_data)

    assert set(task_data) == {"x", "name", "decision", "items", "data", "pair", "y", "count"}
    assert "__builtins__" not in task_data


def test_external_context_is_visible_but_not_kept(environment):
    context = {"x": 2}

    environment.execute("y = x * factor", context, external_context={"factor": 5})

    assert context == {"x": 2, "y": 10}
    assert environment.evaluate("x + factor", context, external_context={"factor": 5}) == 7


def test_code_left_in_task_data_cannot_run_after_the_script(environment, task_data):
    environment.execute("later = [(i for i in items)]", task_data)

    with pytest.raises(ScriptTimeout, match="outside its own script run"):
        list(task_data["later"][0])


def test_task_data_may_not_hide_an_offered_function(environment):
    with pytest.raises(ValueError, match="working_days"):
        environment.execute("y = 1", {"working_days": 3})


def test_offered_function_names_may_not_start_with_underscore():
    with pytest.raises(ValueError, match="_getattr_"):
        RestrictedEnvironment(functions={"_getattr_": getattr})


DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Doubling" isExecutable="true">
    <bpmn:startEvent id="Begin"><bpmn:outgoing>ToDouble</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Double" name="Double x">
      <bpmn:incoming>ToDouble</bpmn:incoming>
      <bpmn:outgoing>ToDecide</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Decide">
      <bpmn:incoming>ToDecide</bpmn:incoming>
      <bpmn:outgoing>ToLarge</bpmn:outgoing>
      <bpmn:outgoing>ToSmall</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="Large"><bpmn:incoming>ToLarge</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="Small"><bpmn:incoming>ToSmall</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="ToDouble" sourceRef="Begin" targetRef="Double" />
    <bpmn:sequenceFlow id="ToDecide" sourceRef="Double" targetRef="Decide" />
    <bpmn:sequenceFlow id="ToLarge" sourceRef="Decide" targetRef="Large">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">y &gt; 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="ToSmall" sourceRef="Decide" targetRef="Small">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">y &lt;= 5</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def run_diagram(script, x):
    """Parse the doubling diagram with the given script, start it with x and run its engine steps."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(DIAGRAM.format(script=script).encode())
    engine = PythonScriptEngine(environment=RestrictedEnvironment())
    workflow = BpmnWorkflow(parser.get_spec("Doubling"), script_engine=engine)
    workflow.get_tasks(state=TaskState.READY)[0].data["x"] = x
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize(("x", "end", "y"), [(3, "Large", 6), (2, "Small", 4)])
def test_spiffworkflow_runs_scripts_and_conditions_in_the_sandbox(x, end, y):
    workflow = run_diagram("y = x * 2", x)

    assert workflow.is_completed()
    ended = {task.task_spec.bpmn_id for task in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert end in ended
    assert ({"Large", "Small"} - {end}).isdisjoint(ended)
    assert workflow.data == {"x": x, "y": y}


def test_spiffworkflow_reports_a_refused_script():
    with pytest.raises(WorkflowTaskException, match="Import statements are not allowed"):
        run_diagram("import os", 1)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("'%5s|%-3d|%.2f' % ('a', 7, 3.14159)", "    a|7  |3.14"),
        ("f'{x:>4}{name!r:.3}{3.14159:08.3f}'", "   3'  0003.142"),
        (
            "'-'.join(str(i) for i in items) + 'a'.ljust(3) + 'b'.zfill(2) + 'ab'.replace('b', 'cd')",
            "1-2a  0bacd",
        ),
        ("str.center('x', 3) + 'a\\tb'.expandtabs(2) + 'abc'.translate({97: 'xy'})", " x a bxybc"),
        ("sorted({*items, *pair} | {9}) + [*items][1:]", [1, 2, 4, 5, 9, 2]),
        ("{**data, 'k': [i for i in range(3)]}", {"k": [0, 1, 2]}),
    ],
)
def test_bounded_operations_still_work_at_ordinary_sizes(environment, task_data, expression, value):
    assert environment.evaluate(expression, task_data) == value


@pytest.mark.parametrize(
    "script",
    [
        "s = 'a'.ljust(2 * 10**9)",
        "s = str.rjust('a', 10**9)",
        "s = 'x' * 10**6\nt = s.join([s] * 1000)",
        "s = 'ab'.replace('', 'x' * 10**6)",
        "s = ('\\t' * 10**5).expandtabs(10**5)",
        "s = 'ab'.translate({97: 'y' * 10**6})",
        "s = '%0*d' % (10**9, 1)",
        "s = '%.1000000000f' % 1.0",
        "s = f'{1:>{10**9}}'",
        "s = f'{1.0:.{10**9}f}'",
        "s = [1]\nfor i in range(40):\n    s.extend(s)",
    ],
)
def test_c_methods_and_formats_that_allocate_are_checked_from_their_arguments(environment, task_data, script):
    """Finding: allocation inside C string methods and format widths escaped the size guard."""
    before = dict(task_data)
    started = time.monotonic()

    with pytest.raises(MemoryError, match="scripts may build at most 1,000,000"):
        environment.execute(script, task_data)

    assert time.monotonic() - started < BUDGET + 0.5
    assert_nothing_escaped(task_data, before)


@pytest.mark.parametrize(
    "script",
    [
        "s = ['a' * 10**6 for i in range(100)]",
        "b = [0] * 10**6\ns = [b[:] for i in range(100)]",
        "b = [0] * 10**6\ns = [[*b, *b] for i in range(100)]",
        "b = [0] * 10**6\ns = [list(b) for i in range(100)]",
        "s = [f'{i:>999999}' for i in range(100)]",
    ],
)
def test_many_moderate_values_stop_at_the_runs_allocation_budget(environment, task_data, script):
    with pytest.raises(MemoryError, match="scripts may build at most that much in one run"):
        environment.execute(script, task_data)


def test_a_script_may_not_leave_more_than_a_megabyte_of_task_data(environment, task_data):
    with pytest.raises(MemoryError, match="scripts may keep at most that much"):
        environment.execute("a = 'x' * 600000\nb = ['y' * 1000] * 500", task_data)
