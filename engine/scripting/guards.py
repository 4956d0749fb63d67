"""What sandboxed diagram code calls at run time: the time budget, size checks and the builtins it sees.

The sandbox compiles the code so that it calls these guards by name: BUDGET_CHECK at the top of every
loop body, function, lambda, comprehension step and exception handler, and OPERATOR_GUARDS in place of
`+`, `*`, `**` and `<<`. This module binds those names and runs the code within its deadline.
"""

import ast
import functools
import operator
import threading
import time
from collections.abc import Callable

from RestrictedPython import safe_builtins
from RestrictedPython.Guards import full_write_guard
from RestrictedPython.Guards import guarded_iter_unpack_sequence
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.Guards import safer_getattr_raise

MAX_ITEMS = 1_000_000  # longest string, list or tuple an operator may build; longer range()s go step by step
MAX_INT_BITS = 1_000_000  # largest integer (about 300,000 digits) `*`, `**` or `<<` may build
BUDGET_CHECK = "_check_budget_"
OPERATOR_GUARDS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}
_SEQUENCES = (str, bytes, list, tuple)
_budget = threading.local()


class ScriptTimeout(RuntimeError):
    """A script or expression ran past its time budget."""


class _OutOfTime(BaseException):
    """Raised inside sandboxed code; a BaseException so `except Exception` in a script cannot hide it."""


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
    OPERATOR_GUARDS[ast.Add]: _checked_add,
    OPERATOR_GUARDS[ast.Mult]: _checked_mul,
    OPERATOR_GUARDS[ast.Pow]: _checked_pow,
    OPERATOR_GUARDS[ast.LShift]: _checked_lshift,
    BUDGET_CHECK: _check_budget,
}


def _base_builtins() -> dict:
    unwanted = ("__build_class__", "_getattr_", "setattr", "delattr")
    names = {name: value for name, value in safe_builtins.items() if name not in unwanted}
    names.update({function.__name__: function for function in (*_HARMLESS, enumerate, zip, isinstance)})
    names.update(range=_bounded_range, sum=_checked_sum, pow=_checked_pow)
    names.update(_GUARDS)
    return names


_BASE_BUILTINS = _base_builtins()  # built once: every command's script engine starts from a copy


def make_builtins(functions: dict[str, Callable]) -> dict:
    """Build the one namespace scripts see besides task data: builtins, guards and offered functions."""
    for name in functions:
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"Cannot offer {name!r} to scripts: use a plain name without a leading '_'.")
    return {**_BASE_BUILTINS, **functions}


def run_within(seconds: float, function, *args):
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
