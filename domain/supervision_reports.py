"""Reading supervision notices: an HRSS reads those of its jurisdiction, a named organisation its own."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts import Actor
from domain.jurisdiction import NotVisible
from domain.jurisdiction import scope_for
from domain.organisations import Organisation
from domain.supervision import SupervisionNotice


@dataclass(frozen=True)
class NoticeSummary:
    id: int
    office: str
    period: str
    title: str
    late_count: int
    created_at: datetime


def _names_organisation(notice: SupervisionNotice, organisation_id: int | None) -> bool:
    return organisation_id is not None and any(
        org["id"] == organisation_id
        for region in notice.details["regions"]
        for org in region["organisations"]
    )


def supervision_notices_for(session: Session, actor: Actor, limit: int = 50) -> list[NoticeSummary]:
    """Return the newest supervision notices the actor may read."""
    scope = scope_for(session, actor)
    query = (
        select(SupervisionNotice, Organisation.name, Organisation.region_code)
        .join(Organisation, Organisation.id == SupervisionNotice.hrss_id)
        .order_by(SupervisionNotice.created_at.desc(), SupervisionNotice.id.desc())
    )
    if not scope.everything and scope.region_codes:
        query = query.where(Organisation.region_code.in_(scope.region_codes))
    found = []
    for notice, office, _region in session.execute(query.limit(limit * 4)):
        if scope.everything or scope.region_codes or _names_organisation(notice, actor.organisation_id):
            found.append(
                NoticeSummary(
                    notice.id, office, notice.period, notice.title, notice.late_count, notice.created_at
                )
            )
    return found[:limit]


def supervision_notice(session: Session, actor: Actor, notice_id: int) -> SupervisionNotice:
    """Return one notice the actor may read, or raise NotVisible."""
    visible = {summary.id for summary in supervision_notices_for(session, actor, limit=1000)}
    notice = session.get(SupervisionNotice, notice_id) if notice_id in visible else None
    if notice is None:
        raise NotVisible(f"supervision notice {notice_id}")
    return notice
