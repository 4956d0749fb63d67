"""Run the Python that policy staff write in diagrams: restricted, guarded and time-boxed.

Scripts, gateway conditions and expressions are compiled by RestrictedPython with a stricter policy
(no imports, no classes, no introspection builtins), then run with guarded builtins. Code that can
loop, call or recurse runs under a per-thread trace function that stops it at a monotonic deadline;
straight-line code cannot run long and skips the tracer. Operators that can build huge values in
one step (`*`, `**`, `<<`, `+`) go through size checks.
"""

import ast
import functools
import operator
import sys
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

MAX_ITEMS = 1_000_000  # longest string, list or tuple an operator or range() may build
MAX_INT_BITS = 1_000_000  # largest integer (about 300,000 digits) `*`, `**` or `<<` may build

_UNAVAILABLE_NAMES = {
    "open": "scripts have no file access",
    "compile": "scripts cannot create code",
    "globals": "scripts cannot inspect namespaces",
    "locals": "scripts cannot inspect namespaces",
    "vars": "scripts cannot inspect namespaces",
    "dir": "scripts cannot inspect namespaces",
    "getattr": "use plain attribute access (value.name)",
    "setattr": "use plain attribute access (value.name)",
    "delattr": "use plain attribute access (value.name)",
    "print": "assign the value to a variable instead",
    "printed": "assign the value to a variable instead",
}
# Code without these nodes runs straight through: no loops, calls, functions or handlers.
_OPEN_ENDED_NODES = (
    ast.For,
    ast.While,
    ast.comprehension,
    ast.Lambda,
    ast.FunctionDef,
    ast.Call,
    ast.Try,
    ast.With,
    ast.NamedExpr,
)
_SEQUENCES = (str, bytes, list, tuple)
_OPERATOR_GUARDS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}
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


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, minus imports, classes and introspection, plus operator guards."""

    def visit_Name(self, node):
        if node.id in _UNAVAILABLE_NAMES:
            self.error(node, f'"{node.id}" is not available to scripts: {_UNAVAILABLE_NAMES[node.id]}.')
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

    def visit_Try(self, node):
        # After a timeout the tracer is gone, so every handler re-checks the budget before running.
        node = self.node_contents_visit(node)
        for body in [handler.body for handler in node.handlers] + [node.finalbody]:
            if body:
                body.insert(0, ast.Expr(ast.Call(ast.Name("_check_budget_", ast.Load()), [], [])))
        return node

    def visit_Module(self, node):
        return ast.fix_missing_locations(super().visit_Module(node))

    def visit_Expression(self, node):
        return ast.fix_missing_locations(super().visit_Expression(node))


class _Compiled(NamedTuple):
    code: CodeType | None
    reasons: tuple[str, ...]
    straight: bool


@functools.lru_cache(maxsize=2048)
def _compile(text: str, mode: str) -> _Compiled:
    """Compile text once per (text, mode); refusals are cached too."""
    try:
        tree = ast.parse(text, "<string>", mode)
    except SyntaxError as error:
        return _Compiled(None, (f"line {error.lineno}: SyntaxError: {error.msg}.",), False)
    straight = not any(isinstance(node, _OPEN_ENDED_NODES) for node in ast.walk(tree))
    compile_mode = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_mode(tree, "<string>", policy=_Policy)
    reasons = tuple(_reword(error) for error in result.errors)
    return _Compiled(result.code, reasons, straight)


def _reword(error: str) -> str:
    return "line" + error[4:] if error.startswith("Line") else error


def check_expression(text: str) -> list[str]:
    """Return why an expression would be refused, one reason per problem; [] when acceptable."""
    return list(_compile(text, "eval").reasons)


def check_script(text: str) -> list[str]:
    """Return why a script would be refused, one reason per problem; [] when acceptable."""
    return list(_compile(text, "exec").reasons)


def _too_long(items: int) -> MemoryError:
    return MemoryError(
        f"This would build a sequence of {items:,} items; scripts may build at most {MAX_ITEMS:,}."
    )


def _too_large(bits: int) -> MemoryError:
    return MemoryError(
        f"This would build a number of about {bits:,} bits; scripts may use at most {MAX_INT_BITS:,}."
    )


def _checked_add(left, right, op=operator.add):
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) and len(left) + len(right) > MAX_ITEMS:
        raise _too_long(len(left) + len(right))
    return op(left, right)


def _checked_mul(left, right, op=operator.mul):
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _too_large(left.bit_length() + right.bit_length())
    elif isinstance(left, _SEQUENCES) and isinstance(right, int) and len(left) * right > MAX_ITEMS:
        raise _too_long(len(left) * right)
    elif isinstance(right, _SEQUENCES) and isinstance(left, int) and len(right) * left > MAX_ITEMS:
        raise _too_long(len(right) * left)
    return op(left, right)


def _checked_pow(base, exponent, modulo=None):
    whole = isinstance(base, int) and isinstance(exponent, int)
    if modulo is None and whole and abs(base) > 1 and base.bit_length() * exponent > MAX_INT_BITS:
        raise _too_large(base.bit_length() * exponent)
    return pow(base, exponent, modulo)


def _checked_lshift(value, shift, op=operator.lshift):
    if (
        isinstance(value, int)
        and isinstance(shift, int)
        and value
        and value.bit_length() + shift > MAX_INT_BITS
    ):
        raise _too_large(value.bit_length() + shift)
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
    # A Python generator, so sum(), list() or max() over it still pass the time budget's tracer.
    yield from span


def _checked_sum(iterable, /, start=0):
    if isinstance(start, (int, float, complex, str)):
        return sum(iterable, start)
    total = start  # lists or tuples: add one by one so the size guard sees every step
    for item in iterable:
        total = _checked_add(total, item)
    return total


def _apply(function, *args, **kwargs):
    return function(*args, **kwargs)


def _check_budget():
    deadline = getattr(_budget, "deadline", None)
    if deadline is None or time.monotonic() > deadline:
        raise _OutOfTime


_HARMLESS = (len, min, max, sorted, abs, round, any, all, str, int, float, bool, list, dict, tuple, set)
_HARMLESS += (enumerate, zip, isinstance)
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
    names = {
        key: value for key, value in safe_builtins.items() if key not in ("__build_class__", "_getattr_")
    }
    for name in ("setattr", "delattr"):
        names.pop(name)
    names.update({function.__name__: function for function in _HARMLESS})
    names.update(range=_bounded_range, sum=_checked_sum, pow=_checked_pow)
    names.update(_GUARDS)
    names.update(functions)
    return names


def _run_within(seconds: float, function, *args):
    """Call function(*args) under a trace function that raises once the deadline passes."""
    outer = getattr(_budget, "deadline", None)
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(deadline, outer)

    def trace(frame, event, arg):
        if time.monotonic() > deadline:
            raise _OutOfTime
        return trace

    previous = sys.gettrace()
    _budget.deadline = deadline
    sys.settrace(trace)
    try:
        return function(*args)
    except _OutOfTime:
        raise ScriptTimeout(
            f"The script ran longer than its {seconds:g} s time budget and was stopped;"
            " look for a loop that never ends."
        ) from None
    finally:
        sys.settrace(previous)
        _budget.deadline = outer


def _remove_code_objects(context: dict) -> None:
    """Drop the builtins and any functions or generators a script left in the task data."""
    context.pop("__builtins__", None)
    for key in [key for key, value in context.items() if callable(value) or isinstance(value, GeneratorType)]:
        del context[key]


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
        builtins = self._builtins_with(external_context)
        if compiled.straight:  # cannot loop or bind names: read the task data in place
            namespace = self._globals if builtins is self._builtins else {"__builtins__": builtins}
            return self._run(compiled, eval, compiled.code, namespace, context)
        scope = dict(context)  # comprehensions and lambdas look names up in globals
        scope["__builtins__"] = builtins
        return self._run(compiled, eval, compiled.code, scope)

    def execute(self, script, context, external_context=None):
        """Run a script on the task data in place; its new top-level variables land in the data."""
        compiled = _compiled_or_refuse(script, "exec", "Script")
        self._check_for_overwrite(context, external_context or {})
        context["__builtins__"] = self._builtins_with(external_context)
        try:
            self._run(compiled, exec, compiled.code, context)
        finally:
            _remove_code_objects(context)
        return True

    def _builtins_with(self, external_context):
        return {**self._builtins, **external_context} if external_context else self._builtins

    def _run(self, compiled: _Compiled, function, *args):
        try:
            if compiled.straight:
                return function(*args)
            return _run_within(self.time_budget, function, *args)
        except MemoryError as error:
            if error.args:  # one of our size guards, already explained
                raise
            raise MemoryError("The script ran out of memory; it builds values far too large.") from None

    def _check_for_overwrite(self, context, external_context):
        clashes = sorted(set(context) & (set(self.globals) | set(external_context)))
        if clashes:
            raise ValueError(
                "Task data overwrites functions offered to scripts; rename these variables or fields: "
                + ", ".join(clashes)
            )


def _compiled_or_refuse(text: str, mode: str, kind: str) -> _Compiled:
    compiled = _compile(text, mode)
    if compiled.reasons:
        raise ScriptRejected(list(compiled.reasons), kind)
    return compiled
