"""One inbox list as the user asks for it: view, filters and sort (its pages' cursors are infra.keyset's)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from datetime import date

VIEWS = ("mine", "queue", "done", "started", "cc")
SORTS = {
    "mine": ("due", "created", "priority"),
    "queue": ("due", "created", "priority"),
    "done": ("completed",),
    "started": ("created",),
    "cc": ("copied",),
}
MAX_DUE_WITHIN_DAYS = 366
_REGION = re.compile(r"^\d{6}$")


class BadQuery(ValueError):
    """A list parameter or cursor is malformed; the message names which."""


@dataclass(frozen=True)
class Filters:
    """What narrows a list; None or False means no filter."""

    process: str | None = None
    region: str | None = None
    organisation: int | None = None
    applicant: str | None = None
    overdue: bool = False
    due_within: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    returned: bool = False  # the actor's own applications sent back to them

    def any(self) -> bool:
        """Say whether any filter is set."""
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ListQuery:
    """One inbox list as the user asked for it: which view, filtered how, in which order."""

    view: str = "mine"
    sort: str = "due"
    filters: Filters = field(default_factory=Filters)

    def args(self) -> dict[str, str]:
        """Return the query-string parameters that ask for this list again (defaults left out)."""
        found = {"view": self.view}
        if self.sort != SORTS[self.view][0]:
            found["sort"] = self.sort
        for f in fields(self.filters):
            value = getattr(self.filters, f.name)
            if value:
                found[f.name] = "1" if value is True else str(value)
        return found


def parse_query(args: Mapping[str, str]) -> ListQuery:
    """Read a list query from request parameters; empty boxes are no filter; raise BadQuery."""
    view = args.get("view") or "mine"
    if view not in VIEWS:
        raise BadQuery(f"unknown view {view!r}")
    sort = args.get("sort") or SORTS[view][0]
    if sort not in SORTS[view]:
        raise BadQuery(f"the {view} list cannot be sorted by {sort!r}")
    text = {key: (args.get(key) or "").strip() or None for key in ("process", "region", "applicant")}
    if text["region"] and not _REGION.match(text["region"]):
        raise BadQuery("region must be a six-digit region code")
    filters = Filters(
        process=text["process"],
        region=text["region"],
        organisation=_number(args, "organisation", 1, 2**31),
        applicant=text["applicant"][:64] if text["applicant"] else None,
        overdue=(args.get("overdue") or "") in ("1", "true", "on", "yes"),
        due_within=_number(args, "due_within", 1, MAX_DUE_WITHIN_DAYS),
        created_from=_date(args, "created_from"),
        created_to=_date(args, "created_to"),
        returned=(args.get("returned") or "") in ("1", "true", "on", "yes"),
    )
    return ListQuery(view, sort, filters)


def _number(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadQuery(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _date(args: Mapping[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as bad:
        raise BadQuery(f"{name} must be a date as YYYY-MM-DD") from bad
