"""Run the Python that policy staff write in diagrams: restricted, guarded and time-boxed.

RestrictedPython compiles the text under a stricter policy (no imports, classes or introspection
builtins) that also puts a deadline check at the top of every loop body, function, lambda, comprehension
step and exception handler, and routes `+`, `*`, `**` and `<<` through size checks.
"""

import ast
import functools
import operator
import threading
import time
from collections.abc import Callable
from types import CodeType
from types import GeneratorType
from typing import NamedTuple

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython import compile_restricted_eval
from RestrictedPython import compile_restricted_exec
from RestrictedPython import safe_builtins
from RestrictedPython.Guards import full_write_guard
from RestrictedPython.Guards import guarded_iter_unpack_sequence
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.Guards import safer_getattr_raise
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

MAX_ITEMS = 1_000_000  # longest string, list or tuple an operator may build; longer range()s go step by step
MAX_INT_BITS = 1_000_000  # largest integer (about 300,000 digits) `*`, `**` or `<<` may build

_WHY_UNAVAILABLE = {
    "scripts have no file access": ("open",),
    "scripts cannot create code": ("compile",),
    "scripts cannot inspect namespaces": ("globals", "locals", "vars", "dir"),
    "use plain attribute access (value.name)": ("getattr", "setattr", "delattr"),
    "assign the value to a variable instead": ("print", "printed"),
}
_UNAVAILABLE = {name: why for why, names in _WHY_UNAVAILABLE.items() for name in names}
_OPERATOR_GUARDS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}
# An expression without these reads task data in place; with them it needs its own globals.
_NEEDS_GLOBALS = (ast.comprehension, ast.Lambda, ast.NamedExpr)
_SEQUENCES = (str, bytes, list, tuple)
_budget = threading.local()


class ScriptRejected(ValueError):
    """Text refused at compile time; message is human readable and lists the reasons."""

    def __init__(self, reasons: list[str], kind: str = "Script"):
        self.reasons = list(reasons)
        super().__init__(f"{kind} refused: " + "; ".join(self.reasons))


class ScriptTimeout(RuntimeError):
    """A script or expression ran past its time budget."""


class _OutOfTime(BaseException):
    """Raised inside sandboxed code; a BaseException so `except Exception` in a script cannot hide it."""


def _budget_check() -> ast.Call:
    return ast.Call(ast.Name("_check_budget_", ast.Load()), [], [])


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
        guard = _OPERATOR_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)

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


def _check_length(items: int) -> None:
    if items > MAX_ITEMS:
        raise MemoryError(
            f"This would build a sequence of {items:,} items; scripts may build at most {MAX_ITEMS:,}."
        )


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise MemoryError(
            f"This would build a number of about {bits:,} bits; scripts may use at most {MAX_INT_BITS:,}."
        )


def _checked_add(left, right, op=operator.add):
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_length(len(left) + len(right))
    return op(left, right)


def _checked_mul(left, right, op=operator.mul):
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length())
    elif isinstance(left, _SEQUENCES) and isinstance(right, int):
        _check_length(len(left) * right)
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        _check_length(len(right) * left)
    return op(left, right)


def _checked_pow(base, exponent, modulo=None):
    if modulo is None and isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
        _check_bits(base.bit_length() * exponent)
    return pow(base, exponent, modulo)


def _checked_lshift(value, shift, op=operator.lshift):
    if isinstance(value, int) and isinstance(shift, int) and value:
        _check_bits(value.bit_length() + shift)
    return op(value, shift)


_INPLACE_OPERATORS = {
    "+=": functools.partial(_checked_add, op=operator.iadd),
    "-=": operator.isub,
    "*=": functools.partial(_checked_mul, op=operator.imul),
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": _checked_pow,
    "<<=": functools.partial(_checked_lshift, op=operator.ilshift),
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
}


def _inplacevar(operator_text: str, target, value):
    if operator_text not in _INPLACE_OPERATORS:
        raise TypeError(f"The operator {operator_text} is not supported in scripts.")
    return _INPLACE_OPERATORS[operator_text](target, value)


def _bounded_range(*args):
    span = range(*args)
    try:
        short = len(span) <= MAX_ITEMS
    except OverflowError:
        short = False
    return span if short else _step_by_step(span)


def _step_by_step(span):
    # sum(), list() or max() run a real range in C, out of reach of the budget; this checks each step.
    for number in span:
        _check_budget()
        yield number


def _checked_sum(iterable, /, start=0):
    if isinstance(start, (int, float, complex, str)):
        return sum(iterable, start)
    total = start  # lists or tuples: add one by one so the size check sees every step
    for item in iterable:
        total = _checked_add(total, item)
    return total


def _apply(function, *args, **kwargs):
    return function(*args, **kwargs)


def _check_budget() -> bool:
    deadline = getattr(_budget, "deadline", None)
    if deadline is None:  # a generator left in task data, resumed after its script run ended
        raise ScriptTimeout("Script code cannot run outside its own script run.")
    if time.monotonic() > deadline:
        raise _OutOfTime
    return True


_HARMLESS = (len, min, max, sorted, abs, round, any, all, str, int, float, bool, list, dict, tuple, set)
_GUARDS = {
    "_getattr_": safer_getattr_raise,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_apply_": _apply,
    "_add_": _checked_add,
    "_mul_": _checked_mul,
    "_pow_": _checked_pow,
    "_lshift_": _checked_lshift,
    "_check_budget_": _check_budget,
}


def _make_builtins(functions: dict[str, Callable]) -> dict:
    """Build the one namespace scripts see besides task data: builtins, guards and offered functions."""
    for name in functions:
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"Cannot offer {name!r} to scripts: use a plain name without a leading '_'.")
    unwanted = ("__build_class__", "_getattr_", "setattr", "delattr")
    names = {name: value for name, value in safe_builtins.items() if name not in unwanted}
    names.update({function.__name__: function for function in (*_HARMLESS, enumerate, zip, isinstance)})
    names.update(range=_bounded_range, sum=_checked_sum, pow=_checked_pow)
    names.update(_GUARDS)
    names.update(functions)
    return names


def _run_within(seconds: float, function, *args):
    """Call function(*args) with a deadline that the inserted budget checks enforce."""
    outer = getattr(_budget, "deadline", None)
    deadline = time.monotonic() + seconds
    _budget.deadline = deadline if outer is None else min(deadline, outer)
    try:
        return function(*args)
    except _OutOfTime:
        message = f"The script ran longer than its {seconds:g} s time budget and was stopped"
        raise ScriptTimeout(message + "; look for a loop that never ends.") from None
    except MemoryError as error:
        if error.args:  # one of the size checks, already explained
            raise
        raise MemoryError("The script ran out of memory: it builds values far too large.") from None
    finally:
        _budget.deadline = outer


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
        self._builtins = _make_builtins(self.globals)
        self._globals = {"__builtins__": self._builtins}

    def evaluate(self, expression, context, external_context=None):
        """Return the value of an expression over the task data, leaving the data untouched."""
        compiled = _compiled_or_refuse(expression, "eval", "Expression")
        builtins = {**self._builtins, **external_context} if external_context else self._builtins
        if compiled.needs_globals:  # comprehensions and lambdas look task data up as globals
            scope = dict(context)
            scope["__builtins__"] = builtins
            return _run_within(self.time_budget, eval, compiled.code, scope)
        namespace = self._globals if builtins is self._builtins else {"__builtins__": builtins}
        return _run_within(self.time_budget, eval, compiled.code, namespace, context)

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
            _run_within(self.time_budget, exec, compiled.code, context)
        finally:
            _remove_code_objects(context)
        return True
