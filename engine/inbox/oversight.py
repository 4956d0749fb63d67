"""Every open task in an actor's jurisdiction (R15), for the administrator who reassigns and terminates.

An inbox lists what one person may work; this list is what is open anywhere the actor oversees,
filtered and paged by position (a supervisor asks "which is the 41st of 230"), with who holds each.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.accounts.users import User
from domain.organisations.jurisdiction import region_filter
from domain.organisations.jurisdiction import scope_for
from engine.inbox.list_query import BadQuery
from engine.inbox.list_query import Filters
from engine.inbox.principal_names import principal_names
from engine.inbox.queries import TaskItem
from engine.inbox.statements import ITEM
from engine.inbox.statements import filter_values
from engine.inbox.statements import where_tasks
from engine.runtime.models import OPEN
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance

PER_PAGE = 20
STATES = ("held", "queued", "delegated")
_REGION = re.compile(r"^\d{6}$")
_HOLDER = User.__table__.alias("holder")


@dataclass(frozen=True)
class OversightQuery:
    """The filters of the list and the page asked for."""

    process: str | None = None
    state: str | None = None  # held (someone holds it), queued (waits to be claimed), delegated
    region: str | None = None
    assignee: str | None = None  # the start of the holder's name
    overdue: bool = False
    page: int = 1

    def args(self, **changes) -> dict[str, str]:
        """Return the query-string parameters that ask for this list (with `changes`) again."""
        values = {
            "process": self.process,
            "state": self.state,
            "region": self.region,
            "assignee": self.assignee,
            "overdue": "1" if self.overdue else None,
            "page": str(self.page) if self.page > 1 else None,
        } | changes
        return {key: str(value) for key, value in values.items() if value}


@dataclass(frozen=True)
class OpenTask:
    """One open task as an inbox lists it, with who holds it or which queues it waits in."""

    item: TaskItem
    holder: str | None
    delegated: bool
    queues: tuple[str, ...]


@dataclass(frozen=True)
class OversightPage:
    """One page of the list: its rows, the total, and the position of its first and last row."""

    items: tuple[OpenTask, ...]
    total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        """Return the position of the page's first row (1-based), 0 when the list is empty."""
        return (self.page - 1) * PER_PAGE + 1 if self.items else 0

    @property
    def last(self) -> int:
        """Return the position of the page's last row."""
        return self.first + len(self.items) - 1 if self.items else 0


def parse_oversight(args: Mapping[str, str]) -> OversightQuery:
    """Read the list's filters and page from request parameters; raise BadQuery for a malformed one."""
    text = {key: (args.get(key) or "").strip() or None for key in ("process", "state", "region", "assignee")}
    if text["state"] and text["state"] not in STATES:
        raise BadQuery(f"state must be one of {', '.join(STATES)}")
    if text["region"] and not _REGION.match(text["region"]):
        raise BadQuery("region must be a six-digit region code")
    page = (args.get("page") or "1").strip()
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise BadQuery("page must be a whole number from 1")
    return OversightQuery(
        process=text["process"],
        state=text["state"],
        region=text["region"],
        assignee=text["assignee"][:64] if text["assignee"] else None,
        overdue=(args.get("overdue") or "") in ("1", "true", "on", "yes"),
        page=int(page),
    )


def open_tasks(session: Session, actor: Actor, query: OversightQuery, now: datetime) -> OversightPage:
    """Return one page of the open tasks in the actor's jurisdiction, soonest due first."""
    task, holder = HumanTask, _HOLDER
    conditions, params = _conditions(session, actor, query, now)
    total = count_open(session, actor, query, now)
    pages = max(1, -(-total // PER_PAGE))
    page = min(query.page, pages)
    rows = session.execute(
        select(*ITEM, holder.c.display_name, task.owner_id, task.candidates)
        .outerjoin(holder, holder.c.id == task.assignee_id)
        .where(*conditions)
        .order_by(task.due_sort, task.id)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE),
        params,
    ).all()
    queued = {p for r in rows if r.display_name is None for p in r.candidates.split()}
    names = principal_names(session, queued)
    items = tuple(
        OpenTask(
            TaskItem(*r[: len(ITEM)]),
            holder=r.display_name,
            delegated=r.owner_id is not None,
            queues=() if r.display_name else tuple(names.get(p, (p, ""))[0] for p in r.candidates.split()),
        )
        for r in rows
    )
    return OversightPage(items, total, page, pages)


def count_open(session: Session, actor: Actor, query: OversightQuery, now: datetime) -> int:
    """Count the open tasks in the actor's jurisdiction that the query's filters leave."""
    conditions, params = _conditions(session, actor, query, now)
    base = select(HumanTask.id).outerjoin(_HOLDER, _HOLDER.c.id == HumanTask.assignee_id).where(*conditions)
    return session.scalar(select(func.count()).select_from(base.subquery()), params) or 0


def _conditions(session: Session, actor: Actor, query: OversightQuery, now: datetime) -> tuple[list, dict]:
    """Return the conditions on open task rows (and their holder) of a query, and their parameters."""
    task = HumanTask
    params = filter_values(Filters(process=query.process, region=query.region, overdue=query.overdue), now)
    conditions = [task.state == OPEN, _in_jurisdiction(session, actor), *where_tasks(tuple(sorted(params)))]
    if query.state == "held":
        conditions.append(task.assignee_id.is_not(None))
    elif query.state == "queued":
        conditions.append(task.assignee_id.is_(None))
    elif query.state == "delegated":
        conditions.append(task.owner_id.is_not(None))
    if query.assignee:
        escaped = query.assignee.replace("/", "//").replace("%", "/%").replace("_", "/_")
        conditions.append(_HOLDER.c.display_name.like(escaped + "%", escape="/"))
    return conditions, params


def _in_jurisdiction(session: Session, actor: Actor):
    """Return the condition on task rows of the actor's jurisdiction: everything, or its regions."""
    by_region = region_filter(scope_for(session, actor), HumanTask.region_code)
    return false() if by_region is None else by_region


def running_count(session: Session, actor: Actor) -> int:
    """Count the running process instances in the actor's jurisdiction."""
    by_region = region_filter(scope_for(session, actor), ProcessInstance.region_code)
    if by_region is None:
        return 0
    running = select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "running")
    return session.scalar(running.where(by_region)) or 0
