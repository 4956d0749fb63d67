"""A user task's settings as its diagram states them (`spiffworkflow:properties`), and their defaults."""

import functools

DEFAULT_ACTIONS = "approve,return,reject,transfer,delegate,countersign"
# an opinion is always asked for to send a process back, refuse it, add an approver or reassign;
# a step may ask for more
ALWAYS_WITH_OPINION = "return,reject,countersign,reassign"


def _listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def allowed_actions(properties: dict) -> str:
    """Return the comma list of actions a step allows (its `actions` property, else the default)."""
    return _allowed(properties.get("actions"))


def opinion_required(properties: dict) -> str:
    """Return the comma list of actions that need an opinion: return and reject, plus `opinionRequired`."""
    return _with_opinion(properties.get("opinionRequired"))


# A diagram's settings are a few distinct strings read for every task row made: parse each once.
@functools.lru_cache(maxsize=256)
def _allowed(listed: str | None) -> str:
    return ",".join(dict.fromkeys(_listed(listed) or _listed(DEFAULT_ACTIONS)))


@functools.lru_cache(maxsize=256)
def _with_opinion(listed: str | None) -> str:
    return ",".join(dict.fromkeys(_listed(ALWAYS_WITH_OPINION) + _listed(listed)))
