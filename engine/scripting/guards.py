"""What sandboxed diagram code calls at run time: the time budget, size checks and the builtins it sees.

The sandbox compiles the code so that it calls these guards by name: BUDGET_CHECK at the top of every
loop body, function, lambda, comprehension step and exception handler, OPERATOR_GUARDS in place of
`+`, `*`, `**`, `<<`, `%` and `|`, CALL_GUARD around every call, SPEC_CHECK on every f-string width and
COUNTED around f-strings and starred displays. This module binds those names and runs the code within
its deadline.

Two budgets bound what a run may build. A single value is checked before it is built (MAX_ITEMS: a
padded or joined string, a repeated sequence, a format width); everything a run builds is counted
afterwards (MAX_ALLOCATED: the characters and items of every new string or container, and every item
written into one), so a comprehension of many moderate values stops too. C code that allocates on a
script's behalf (str.ljust, str.join, str.replace, `%` widths...) is checked from its arguments first.
"""

import ast
import functools
import operator
import re
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
MAX_ALLOCATED = 4_000_000  # characters and items one run may build in all (about 150 MB at worst)
MAX_DATA = 1_000_000  # characters and items a script may leave in its task data
BUDGET_CHECK = "_check_budget_"
CALL_GUARD = "_call_"
SPEC_CHECK = "_format_spec_"
COUNTED = "_counted_"
OPERATOR_GUARDS = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
    ast.BitOr: "_or_",
}
_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_GROWING = (list, dict, set)  # containers a method can grow in place (extend, update)
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


def _account(size: int) -> None:
    """Count what a run built; past MAX_ALLOCATED the run stops, however small each piece was."""
    used = getattr(_budget, "allocated", 0) + size
    _budget.allocated = used
    if used > MAX_ALLOCATED:
        raise MemoryError(
            f"This script builds more than {MAX_ALLOCATED:,} characters and items in all; "
            "scripts may build at most that much in one run."
        )


def _counted(value):
    """Return a value after counting its size, if it is a string or a container."""
    if isinstance(value, _SIZED):
        _account(len(value))
    return value


def _checked_add(left, right, op=operator.add):
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_length(len(left) + len(right))
        return _counted(op(left, right))
    return op(left, right)


def _checked_mul(left, right, op=operator.mul):
    if isinstance(left, int) and isinstance(right, int):
        _check_bits(left.bit_length() + right.bit_length())
    elif isinstance(left, _SEQUENCES) and isinstance(right, int):
        _check_length(len(left) * right)
        return _counted(op(left, right))
    elif isinstance(right, _SEQUENCES) and isinstance(left, int):
        _check_length(len(right) * left)
        return _counted(op(left, right))
    return op(left, right)


# A printf-style conversion: its width and precision, each a number or `*` taken from the values.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.DOTALL)


def _checked_mod(left, right):
    """`%`: formatting checks every width and precision before the string is built."""
    if not isinstance(left, str | bytes):
        return left % right
    values = list(right) if isinstance(right, tuple) else [right]
    taken = 0
    text = left if isinstance(left, str) else left.decode("latin-1")
    for match in _PERCENT.finditer(text):
        for number in match.group(1, 2):
            if number == "*":
                star = values[taken] if taken < len(values) else 0
                taken += 1
                if isinstance(star, int):
                    _check_length(abs(star))
            elif number:
                _check_length(int(number))
        taken += match.group(3) != "%"
    return _counted(left % right)


def _checked_or(left, right):
    return _counted(left | right) if isinstance(left, _SIZED) else left | right


# The standard format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type].
_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?", re.DOTALL)


def _format_spec(spec: str) -> str:
    """Return an f-string's format spec once its width and precision fit; other specs (dates) pass."""
    found = _SPEC.fullmatch(spec)
    if found is not None:
        for number in found.groups():
            if number:
                _check_length(int(number))
    return spec


def _argument(args: tuple, kwargs: dict, index: int, name: str, default=None):
    return args[index] if len(args) > index else kwargs.get(name, default)


def _padded(owner, args: tuple, kwargs: dict) -> tuple:
    width = _argument(args, kwargs, 0, "width", 0)
    if isinstance(width, int):
        _check_length(width)
    return args


def _tabs_expanded(owner, args: tuple, kwargs: dict) -> tuple:
    size = _argument(args, kwargs, 0, "tabsize", 8)
    if isinstance(size, int):
        tab = "\t" if isinstance(owner, str) else b"\t"
        _check_length(len(owner) + owner.count(tab) * max(size, 0))
    return args


def _joined(owner, args: tuple, kwargs: dict) -> tuple:
    if not args:
        return args
    items = list(args[0])  # a generator's steps are budgeted; the list is what join makes anyway
    pieces = sum(len(item) for item in items if isinstance(item, str | bytes))
    _check_length(pieces + len(owner) * max(len(items) - 1, 0))
    return (items, *args[1:])


def _replaced(owner, args: tuple, kwargs: dict) -> tuple:
    old, new = _argument(args, kwargs, 0, "old"), _argument(args, kwargs, 1, "new")
    count = _argument(args, kwargs, 2, "count", -1)
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
        found = owner.count(old) if old else len(owner) + 1
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        _check_length(len(owner) + found * (len(new) - len(old)))
    return args


def _translated(owner, args: tuple, kwargs: dict) -> tuple:
    table = _argument(args, kwargs, 0, "table")
    if isinstance(table, dict):
        longest = max((len(value) for value in table.values() if isinstance(value, str)), default=1)
        _check_length(len(owner) * longest)
    return args


def _grown(owner, args: tuple, kwargs: dict) -> tuple:
    if isinstance(owner, _GROWING):
        for value in (*args, *kwargs.values()):
            if isinstance(value, _SIZED):
                _check_length(len(owner) + len(value))
                _account(len(value))
    return args


def _one_more(owner, args: tuple, kwargs: dict) -> tuple:
    if isinstance(owner, _GROWING):
        _account(1)
    return args


_BEFORE_CALL = {
    "append": _one_more,
    "add": _one_more,
    "insert": _one_more,
    "setdefault": _one_more,
    "ljust": _padded,
    "rjust": _padded,
    "center": _padded,
    "zfill": _padded,
    "expandtabs": _tabs_expanded,
    "join": _joined,
    "replace": _replaced,
    "translate": _translated,
    "extend": _grown,
    "update": _grown,
}
_GUARDED_OWNERS = (str, bytes, list, dict, set)


def _guarded_call(function, *args, **kwargs):
    """Call on a script's behalf: check what C code would allocate first, count what it built after."""
    check = _BEFORE_CALL.get(getattr(function, "__name__", None))
    if check is not None:
        owner = getattr(function, "__self__", None)
        if isinstance(owner, _GUARDED_OWNERS):  # a bound method: 'a'.ljust(n)
            args = check(owner, args, kwargs)
        elif getattr(function, "__objclass__", None) in _GUARDED_OWNERS and args:  # str.ljust('a', n)
            args = (args[0], *check(args[0], args[1:], kwargs))
    return _counted(function(*args, **kwargs))


def _counted_write(target):
    _account(1)  # d[k] = v or a.b = v: one more item, counted like append
    return full_write_guard(target)


def _checked_getitem(value, key):
    found = value[key]
    return _counted(found) if isinstance(key, slice) else found


def check_data_size(data: dict, limit: int = MAX_DATA) -> None:
    """Refuse task data holding more than `limit` characters and items in all (walked, not serialised)."""
    left = limit
    pending = list(data.values())
    while pending:
        value = pending.pop()
        if isinstance(value, str | bytes):
            left -= len(value)
        elif isinstance(value, dict):
            left -= len(value)
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            left -= len(value)
            pending.extend(value)
        else:
            left -= 1
        if left < 0:
            raise MemoryError(
                f"The script leaves more than {limit:,} characters and items in the task data; "
                "scripts may keep at most that much: store large content as an attachment."
            )


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
    "_getitem_": _checked_getitem,
    "_getiter_": iter,
    "_write_": _counted_write,
    "_inplacevar_": _inplacevar,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_apply_": _apply,
    OPERATOR_GUARDS[ast.Add]: _checked_add,
    OPERATOR_GUARDS[ast.Mult]: _checked_mul,
    OPERATOR_GUARDS[ast.Pow]: _checked_pow,
    OPERATOR_GUARDS[ast.LShift]: _checked_lshift,
    OPERATOR_GUARDS[ast.Mod]: _checked_mod,
    OPERATOR_GUARDS[ast.BitOr]: _checked_or,
    BUDGET_CHECK: _check_budget,
    CALL_GUARD: _guarded_call,
    SPEC_CHECK: _format_spec,
    COUNTED: _counted,
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
    if outer is None:
        _budget.allocated = 0  # a nested run (a function offered to scripts) shares its caller's count
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
