"""Run the Python that policy staff write in diagrams: restricted, guarded and time-boxed.

RestrictedPython compiles the text under a stricter policy (no imports, classes or introspection
builtins) that also puts a deadline check at the top of every loop body, function, lambda, comprehension
step and exception handler, and routes every call, f-string and the operators that build large values
through size checks. The checks themselves, and the builtins scripts see, are in engine.scripting.guards.
"""

import ast
import functools
from collections.abc import Callable
from types import CodeType
from types import GeneratorType
from typing import NamedTuple

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython import compile_restricted_eval
from RestrictedPython import compile_restricted_exec
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.scripting.guards import BUDGET_CHECK
from engine.scripting.guards import CALL_GUARD
from engine.scripting.guards import COUNTED
from engine.scripting.guards import OPERATOR_GUARDS
from engine.scripting.guards import SPEC_CHECK
from engine.scripting.guards import check_data_size
from engine.scripting.guards import make_builtins
from engine.scripting.guards import run_within

_WHY_UNAVAILABLE = {
    "scripts have no file access": ("open",),
    "scripts cannot create code": ("compile",),
    "scripts cannot inspect namespaces": ("globals", "locals", "vars", "dir"),
    "use plain attribute access (value.name)": ("getattr", "setattr", "delattr"),
    "assign the value to a variable instead": ("print", "printed"),
}
_UNAVAILABLE = {name: why for why, names in _WHY_UNAVAILABLE.items() for name in names}
# An expression without these reads task data in place; with them it needs its own globals.
_NEEDS_GLOBALS = (ast.comprehension, ast.Lambda, ast.NamedExpr)


class ScriptRejected(ValueError):
    """Text refused at compile time; message is human readable and lists the reasons."""

    def __init__(self, reasons: list[str], kind: str = "Script"):
        self.reasons = list(reasons)
        super().__init__(f"{kind} refused: " + "; ".join(self.reasons))


def _budget_check() -> ast.Call:
    return ast.Call(ast.Name(BUDGET_CHECK, ast.Load()), [], [])


def _guarded(guard: str, node: ast.expr, *more: ast.expr) -> ast.Call:
    return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node, *more], []), node)


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, minus imports, classes and introspection, plus budget and size checks."""

    def visit_Name(self, node):
        if node.id in _UNAVAILABLE:
            self.error(node, f'"{node.id}" is not available to scripts: {_UNAVAILABLE[node.id]}.')
        return super().visit_Name(node)

    def visit_Import(self, node):
        self.error(node, "Import statements are not allowed.")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "Class definitions are not allowed.")
        return node

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = OPERATOR_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return _guarded(guard, node.left, node.right)

    def visit_Call(self, node):
        # Every call goes through the call guard: C methods that allocate (ljust, join...) are checked
        # from their arguments first, and whatever a call returns is counted.
        node = super().visit_Call(node)
        call = ast.Call(ast.Name(CALL_GUARD, ast.Load()), [node.func, *node.args], node.keywords)
        return ast.copy_location(call, node)

    def visit_JoinedStr(self, node):
        return _guarded(COUNTED, self.node_contents_visit(node))

    def visit_FormattedValue(self, node):
        # A format spec is an f-string of its own that must stay one: check it inside, not around it.
        node.value = self.visit(node.value)
        if node.format_spec is not None:
            spec = node.format_spec
            spec.values = [self.visit(value) for value in spec.values]
            checked = ast.FormattedValue(_guarded(SPEC_CHECK, spec), -1, None)
            node.format_spec = ast.copy_location(ast.JoinedStr([checked]), spec)
        return node

    def visit_List(self, node):
        return self._count_unpacking(super().visit_List(node))

    def visit_Tuple(self, node):
        return self._count_unpacking(super().visit_Tuple(node))

    def visit_Set(self, node):
        return self._count_unpacking(super().visit_Set(node))

    def visit_Dict(self, node):
        node = super().visit_Dict(node)
        return _guarded(COUNTED, node) if None in node.keys else node

    @staticmethod
    def _count_unpacking(node):
        """Count a display that unpacks (`[*a, *a]`): it copies whole sequences in C."""
        loading = isinstance(getattr(node, "ctx", ast.Load()), ast.Load)
        if loading and any(isinstance(element, ast.Starred) for element in node.elts):
            return _guarded(COUNTED, node)
        return node

    def visit_For(self, node):
        node = super().visit_For(node)
        return self._check_first(node, [node.body])

    def visit_While(self, node):
        node = super().visit_While(node)
        return self._check_first(node, [node.body])

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        return self._check_first(node, [node.body])

    def visit_Try(self, node):
        # Handlers re-check, so catching the timeout (bare except, finally) cannot keep a script going.
        node = super().visit_Try(node)
        return self._check_first(node, [handler.body for handler in node.handlers] + [node.finalbody])

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(ast.And(), [_budget_check(), node.body])
        return node

    def visit_ListComp(self, node):
        return _guarded(COUNTED, super().visit_ListComp(node))

    def visit_SetComp(self, node):
        return _guarded(COUNTED, super().visit_SetComp(node))

    def visit_DictComp(self, node):
        return _guarded(COUNTED, super().visit_DictComp(node))

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _budget_check())
        return node

    def visit_Module(self, node):
        return ast.fix_missing_locations(super().visit_Module(node))

    def visit_Expression(self, node):
        return ast.fix_missing_locations(super().visit_Expression(node))

    @staticmethod
    def _check_first(node, bodies):
        for body in bodies:
            if body:
                body.insert(0, ast.Expr(_budget_check()))
        return node


class _Compiled(NamedTuple):
    code: CodeType | None
    reasons: tuple[str, ...]
    needs_globals: bool


@functools.lru_cache(maxsize=2048)
def _compile(text: str, mode: str) -> _Compiled:
    """Compile text once per (text, mode); refusals are cached too."""
    try:
        tree = ast.parse(text, "<string>", mode)
    except SyntaxError as error:
        return _Compiled(None, (f"line {error.lineno}: SyntaxError: {error.msg}.",), True)
    needs_globals = any(isinstance(node, _NEEDS_GLOBALS) for node in ast.walk(tree))
    compile_mode = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_mode(tree, "<string>", policy=_Policy)
    reasons = tuple("line" + error[4:] if error.startswith("Line") else error for error in result.errors)
    return _Compiled(result.code, reasons, needs_globals)


def check_expression(text: str) -> list[str]:
    """Return why an expression would be refused, one reason per problem; [] when acceptable."""
    return list(_compile(text, "eval").reasons)


def check_script(text: str) -> list[str]:
    """Return why a script would be refused, one reason per problem; [] when acceptable."""
    return list(_compile(text, "exec").reasons)


def _remove_code_objects(context: dict) -> None:
    """Drop the builtins and any functions or generators a script left in the task data."""
    context.pop("__builtins__", None)
    for key in [key for key, value in context.items() if callable(value) or isinstance(value, GeneratorType)]:
        del context[key]


def _compiled_or_refuse(text: str, mode: str, kind: str) -> _Compiled:
    compiled = _compile(text, mode)
    if compiled.reasons:
        raise ScriptRejected(list(compiled.reasons), kind)
    return compiled


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs diagram code under RestrictedPython and a time budget."""

    def __init__(self, functions: dict[str, Callable] | None = None, time_budget: float = 1.0):
        super().__init__(environment_globals=dict(functions or {}))
        self.time_budget = time_budget
        self._builtins = make_builtins(self.globals)
        self._globals = {"__builtins__": self._builtins}

    def evaluate(self, expression, context, external_context=None):
        """Return the value of an expression over the task data, leaving the data untouched."""
        compiled = _compiled_or_refuse(expression, "eval", "Expression")
        builtins = {**self._builtins, **external_context} if external_context else self._builtins
        if compiled.needs_globals:  # comprehensions and lambdas look task data up as globals
            scope = dict(context)
            scope["__builtins__"] = builtins
            return run_within(self.time_budget, eval, compiled.code, scope)
        namespace = self._globals if builtins is self._builtins else {"__builtins__": builtins}
        return run_within(self.time_budget, eval, compiled.code, namespace, context)

    def execute(self, script, context, external_context=None):
        """Run a script on the task data in place; its new top-level variables land in the data."""
        compiled = _compiled_or_refuse(script, "exec", "Script")
        external_context = external_context or {}
        if clashes := sorted(set(context) & (set(self.globals) | set(external_context))):
            raise ValueError(f"Task data hides functions offered to scripts; rename: {', '.join(clashes)}.")
        context["__builtins__"] = (
            {**self._builtins, **external_context} if external_context else self._builtins
        )
        try:
            run_within(self.time_budget, _run_and_measure, compiled.code, context)
        finally:
            _remove_code_objects(context)
        return True


def _run_and_measure(code: CodeType, context: dict) -> None:
    """Run a script, then measure the data it leaves: both inside its time budget."""
    exec(code, context)  # noqa: S102  (restricted code, compiled above)
    _remove_code_objects(context)
    check_data_size(context)
