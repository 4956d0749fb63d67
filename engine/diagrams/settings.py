"""A step's settings as its diagram states them (`spiffworkflow:properties`), and their defaults.

A user task states its actions and opinions; the start event states who may start the process by hand.
"""

import functools
from dataclasses import dataclass

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


# --- who may start a process by hand: the start event's `starters` property ----------------

STARTER_KINDS = frozenset({"hrss", "authority", "employer", "institution", "person", "admin"})
LEVELS = frozenset({"province", "city", "county"})


@dataclass(frozen=True)
class RoleRule:
    """One entry of a start rule: an organisation kind (or `person`, `admin`), at a level, in a role."""

    kind: str
    level: str | None = None  # any level when None
    role: str | None = None  # any role when None


def starters(properties: dict) -> tuple[RoleRule, ...]:
    """Return the start rule a start event states (`starters`); empty: nobody starts it by hand.

    The rule is a comma list of `kind[.level][:role]`, e.g. `employer:hr, hrss.county:reviewer, person`.
    Entries that do not parse are left out here; a deploy refuses them (`starter_problems`).
    """
    return _starters(properties.get("starters"))


@functools.lru_cache(maxsize=64)
def _starters(listed: str | None) -> tuple[RoleRule, ...]:
    return tuple(found for entry in _listed(listed) if (found := _starter(entry)) is not None)


def _starter(entry: str) -> RoleRule | None:
    head, _, role = entry.partition(":")
    kind, _, level = head.partition(".")
    if kind not in STARTER_KINDS or (level and level not in LEVELS) or (":" in entry and not role):
        return None
    return RoleRule(kind, level or None, role or None)


def starter_problems(listed: str) -> list[str]:
    """Return the entries of a start rule that name no kind, level or role this system knows."""
    return [entry for entry in _listed(listed) if _starter(entry) is None]
