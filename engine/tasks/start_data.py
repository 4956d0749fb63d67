"""What a process may be started with: a JSON object of bounded size and nesting.

Start data is stored in the workflow's serialized state and copied into every task's data, so a
huge or deeply nested value would make each later step slow (or blow Python's recursion limit in the
serializer). The pages build it themselves; the CLI and scripts hand it in as JSON text.
"""

import json

from engine.errors import InvalidCommand

MAX_CHARACTERS = 64_000
MAX_DEPTH = 32


def parse_start_data(text: str) -> dict:
    """Return the start data given as JSON text; raise InvalidCommand when it is not a small JSON object."""
    if len(text) > MAX_CHARACTERS:
        raise InvalidCommand("start_data_too_big", size=len(text), most=MAX_CHARACTERS)
    try:
        data = json.loads(text)
    except RecursionError:
        raise InvalidCommand("start_data_too_deep", most=MAX_DEPTH) from None
    except ValueError as error:
        raise InvalidCommand("start_data_not_json", reason=str(error)[:200]) from None
    return check_start_data(data)


def check_start_data(data) -> dict:
    """Return the start data if it is an object of bounded nesting and size; raise InvalidCommand if not."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidCommand("start_data_not_object")
    level, stack, texts = 0, [(data, 1)], 0
    while stack:  # without recursion: the check must not fail the way it guards against
        value, level = stack.pop()
        if level > MAX_DEPTH:
            raise InvalidCommand("start_data_too_deep", most=MAX_DEPTH)
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
            else:  # a string's length, or a few characters for a number, a boolean or null
                texts += len(child) if isinstance(child, str) else 8
        if isinstance(value, dict):
            texts += sum(len(str(key)) for key in value)
    if texts > MAX_CHARACTERS // 4:  # far below the limit as text: no need to serialise it to measure
        size = len(json.dumps(data, ensure_ascii=False, default=str))
        if size > MAX_CHARACTERS:
            raise InvalidCommand("start_data_too_big", size=size, most=MAX_CHARACTERS)
    return data
