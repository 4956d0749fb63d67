"""A user task's settings as its diagram states them (`spiffworkflow:properties`), and their defaults."""

DEFAULT_ACTIONS = "approve,return,reject,transfer,delegate,countersign"
# an opinion is always asked for to send a process back, refuse it, add an approver or reassign;
# a step may ask for more
ALWAYS_WITH_OPINION = "return,reject,countersign,reassign"


def _listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def allowed_actions(properties: dict) -> str:
    """Return the comma list of actions a step allows (its `actions` property, else the default)."""
    return ",".join(dict.fromkeys(_listed(properties.get("actions")) or _listed(DEFAULT_ACTIONS)))


def opinion_required(properties: dict) -> str:
    """Return the comma list of actions that need an opinion: return and reject, plus `opinionRequired`."""
    return ",".join(dict.fromkeys(_listed(ALWAYS_WITH_OPINION) + _listed(properties.get("opinionRequired"))))
