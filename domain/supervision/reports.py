"""Reading supervision notices: an HRSS reads those of its jurisdiction, a named organisation its own."""

import re
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime

from sqlalchemy import cast
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.jurisdiction import scope_for
from domain.organisations.records import Organisation
from domain.supervision.notices import SupervisionNotice
from domain.supervision.notices import organisation_summary
from infra.keyset import Order
from infra.keyset import Page
from infra.keyset import search


@dataclass(frozen=True)
class NoticeSummary:
    id: int
    office: str
    period: str
    title: str
    late_count: int
    created_at: datetime


def _names_organisation(session: Session, organisation_id: int):
    """Return the SQL condition that a notice's details list the organisation.

    `details` is {"regions": [{"organisations": [{"id": ...}, ...]}, ...]}; PostgreSQL matches it
    by JSONB containment, SQLite by walking both arrays with json_each.
    """
    if session.get_bind().dialect.name == "postgresql":
        listed = {"regions": [{"organisations": [{"id": organisation_id}]}]}
        return cast(SupervisionNotice.details, JSONB).contains(listed)
    regions = (
        func.json_each(SupervisionNotice.details, "$.regions").table_valued("value").alias("listed_region")
    )
    organisations = func.json_each(regions.c.value, "$.organisations").table_valued("value").alias("listed")
    return (
        select(1)
        .select_from(regions)
        .join(organisations, true())
        .where(func.json_extract(organisations.c.value, "$.id") == organisation_id)
        .exists()
    )


def _visible(session: Session, actor: Actor):
    """Return the SQL condition on a notice joined to its office for the notices the actor may read."""
    scope = scope_for(session, actor)
    if scope.everything:
        return true()
    if scope.region_codes:
        return Organisation.region_code.in_(scope.region_codes)
    if actor.organisation_id is None:
        return false()
    return _names_organisation(session, actor.organisation_id)


def _readable(query, session: Session, actor: Actor):
    """Return the query over notices narrowed to those the actor may read."""
    return query.join(Organisation, Organisation.id == SupervisionNotice.hrss_id).where(
        _visible(session, actor)
    )


@dataclass(frozen=True)
class NoticeView:
    """One supervision notice as pages and documents read it."""

    id: int
    hrss_id: int
    office: str
    period: str
    created_at: datetime
    title: str
    summary: str
    late_count: int
    details: dict


def _named_only(session: Session, actor: Actor) -> int | None:
    """Return the organisation whose own lines are all the actor may read, or None for a whole reader.

    An HRSS (and a system admin) reads whole notices of its jurisdiction; anyone else reads a
    notice only because it names their organisation, and then only that organisation's line.
    """
    scope = scope_for(session, actor)
    return None if scope.everything or scope.region_codes else actor.organisation_id


NOTICE_ORDER: Order = ((SupervisionNotice.created_at, True), (SupervisionNotice.id, True))  # newest first
PERIOD = re.compile(r"[0-9]{4}-W[0-9]{2}")


def search_supervision_notices(
    session: Session,
    actor: Actor,
    *,
    period: str | None = None,
    office_id: int | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = 20,
) -> Page[NoticeSummary]:
    """Return a page of the notices the actor may read, newest first, of one period and office if given."""
    notice = SupervisionNotice
    columns = (
        notice.id,
        Organisation.name,
        notice.period,
        notice.title,
        notice.late_count,
        notice.created_at,
    )
    # the join is a condition too: the capped count reads the tables from the conditions
    conditions = [Organisation.id == notice.hrss_id, _visible(session, actor)]
    if period:
        conditions.append(notice.period == period)
    if office_id is not None:
        conditions.append(notice.hrss_id == office_id)
    page = search(
        session,
        select(*columns).select_from(notice).join(Organisation, Organisation.id == notice.hrss_id),
        NOTICE_ORDER,
        conditions,
        make=lambda row: NoticeSummary(*row),
        after=after,
        before=before,
        limit=limit,
    )
    if _named_only(session, actor) is not None:  # a notice names an organisation once
        return replace(page, items=tuple(replace(row, late_count=1) for row in page.items))
    return page


def supervision_notices_for(session: Session, actor: Actor, limit: int = 50) -> list[NoticeSummary]:
    """Return the newest supervision notices the actor may read."""
    return list(search_supervision_notices(session, actor, limit=limit).items)


def notice_filter_choices(session: Session, actor: Actor) -> tuple[list[str], list[tuple[int, str]]]:
    """Return the periods (newest first) and the issuing offices of the notices the actor may read."""
    notice = SupervisionNotice
    readable = _readable(select(notice.period, Organisation.id, Organisation.name).distinct(), session, actor)
    rows = session.execute(readable).all()
    periods = sorted({row.period for row in rows}, reverse=True)
    offices = sorted({(row.id, row.name) for row in rows}, key=lambda office: office[0])
    return periods, offices


def supervision_notice(session: Session, actor: Actor, notice_id: int) -> NoticeView:
    """Return one notice the actor may read, or raise NotVisible."""
    notice = SupervisionNotice
    columns = (notice.id, notice.hrss_id, Organisation.name, notice.period, notice.created_at, notice.title)
    columns += (notice.summary, notice.late_count, notice.details)
    found = session.execute(_readable(select(*columns), session, actor).where(notice.id == notice_id)).first()
    if found is None:
        raise NotVisible(f"supervision notice {notice_id}")
    view = NoticeView(*found)
    own = _named_only(session, actor)
    return view if own is None else _own_lines(view, own)


def _own_lines(view: NoticeView, organisation_id: int) -> NoticeView:
    """Return the notice cut down to one organisation's line: its region, its row, its own summary."""
    for region in view.details["regions"]:
        for org in region["organisations"]:
            if org["id"] == organisation_id:
                details = {**view.details, "regions": [{**region, "organisations": [org]}]}
                return replace(view, summary=organisation_summary(org), late_count=1, details=details)
    raise NotVisible(f"supervision notice {view.id}")
