"""Supervision notices (督导通报, R4): each HRSS's periodic list of the organisations behind a deadline.

A notice is produced once per HRSS and period, however many schedulers run: the insert is guarded
by UNIQUE(hrss_id, period) inside a SAVEPOINT, and the loser of a race skips. In-app notices are
written in the same transaction; mail goes out only after that transaction commits.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import and_
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.principals import group_principal
from domain.accounts.principals import user_principal
from domain.base import Base
from domain.calendar.deadlines import china_day
from domain.calendar.policy import PolicyView
from domain.calendar.policy import policies_for_year
from domain.calendar.policy import resolve_policy
from domain.notices.records import Notice
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import RegionView
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions
from domain.persons.records import Person
from domain.persons.records import PersonStatus
from domain.supervision.documents import notice_mail
from infra.mail import Mailer

log = logging.getLogger(__name__)

NOTICE_KIND = "supervision"
HRSS_ROLES = ("reviewer", "approver")
NOT_YET_ACTIVE = (OrganisationStatus.PENDING, OrganisationStatus.RETURNED)
ORG_LATE = "org_registration"
PERSONS_LATE = "person_registration"
# LateOrganisation takes these columns in this order, then the active persons count
ORG_COLUMNS = ("id", "name", "kind", "status", "region_code", "expected_persons", "admin_user_id")


class SupervisionNotice(Base):
    """One HRSS's supervision notice for one period; `details` lists the late organisations by region."""

    __tablename__ = "supervision_notice"
    __table_args__ = (UniqueConstraint("hrss_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hrss_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    period: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text)
    late_count: Mapped[int]
    details: Mapped[dict] = mapped_column(JSON)


@dataclass(frozen=True)
class LateOrganisation:
    """An organisation behind a deadline, with the deadlines it missed (by name)."""

    id: int
    name: str
    kind: str
    status: str
    region_code: str
    expected: int
    admin_user_id: int | None
    registered: int
    missed: dict[str, str]  # deadline name -> ISO date

    @property
    def shortfall(self) -> int:
        """Return how many persons are still to register."""
        return max(self.expected - self.registered, 0)


def supervision_period(now: datetime) -> str:
    """Return the ISO week of a moment in Beijing, e.g. "2026-W48": one notice per HRSS per week."""
    year, week, _ = china_day(now).isocalendar()
    return f"{year}-W{week:02d}"


def find_late_organisations(
    session: Session, today: date, regions: dict[str, RegionView]
) -> list[LateOrganisation]:
    """Return the organisations behind the calendar of today's year in their region."""
    policies = policies_for_year(session, today.year)
    counts = (
        select(Person.employer_id, func.count().label("n"))
        .where(Person.status == PersonStatus.ACTIVE)
        .group_by(Person.employer_id)
        .subquery()
    )
    registered = func.coalesce(counts.c.n, 0).label("registered")
    short = and_(
        Organisation.kind == OrganisationKind.EMPLOYER,
        Organisation.status == OrganisationStatus.ACTIVE,
        Organisation.expected_persons > registered,
    )
    columns = [getattr(Organisation, name) for name in ORG_COLUMNS]
    rows = session.execute(
        select(*columns, registered)
        .outerjoin(counts, counts.c.employer_id == Organisation.id)
        .where(or_(Organisation.status.in_(NOT_YET_ACTIVE), short))
        .order_by(Organisation.region_code, Organisation.sort_name, Organisation.id)
    )
    late = []
    for row in rows:
        policy = resolve_policy(policies, regions, row.region_code)
        missed = _missed(row, policy, today) if policy else {}
        if missed:
            late.append(LateOrganisation(*row, missed=missed))
    return late


def _missed(row, policy: PolicyView, today: date) -> dict[str, str]:
    """Return the deadlines (name -> ISO date) an organisation's row is behind."""
    missed = {}
    if row.status in NOT_YET_ACTIVE and today > policy.org_registration_deadline:
        missed[ORG_LATE] = policy.org_registration_deadline.isoformat()
    short = row.kind == OrganisationKind.EMPLOYER and row.expected_persons > row.registered
    if short and today > policy.person_registration_deadline:
        missed[PERSONS_LATE] = policy.person_registration_deadline.isoformat()
    return missed


def _offices(session: Session) -> list:
    """Return the active HRSS offices (id, name, region_code), the publishers of notices."""
    return session.execute(
        select(Organisation.id, Organisation.name, Organisation.region_code)
        .where(Organisation.kind == OrganisationKind.HRSS, Organisation.status == OrganisationStatus.ACTIVE)
        .order_by(Organisation.id)
    ).all()


def assign_to_offices(late, offices: list, regions: dict[str, RegionView]):
    """Return, per HRSS id, the late organisations in its jurisdiction, and the nearest HRSS of each.

    The nearest HRSS (its own region's, else the closest above) is the one that tells the
    organisation's unit admin, so an admin hears once per period, not once per level.
    """
    by_region = defaultdict(list)
    for office in offices:
        by_region[office.region_code].append(office.id)
    listed, nearest = defaultdict(list), {}
    for org in late:
        for code in [org.region_code, *ancestors(regions, org.region_code)]:
            for office_id in by_region.get(code, ()):
                listed[office_id].append(org)
                nearest.setdefault(org.id, office_id)
    return listed, nearest


def _details(today: date, late: list[LateOrganisation], regions: dict[str, RegionView]) -> dict:
    grouped = defaultdict(list)
    for org in late:
        grouped[org.region_code].append({**asdict(org), "shortfall": org.shortfall})
    names = {code: regions[code].name if code in regions else code for code in grouped}
    listing = [{"code": c, "name": names[c], "organisations": grouped[c]} for c in sorted(grouped)]
    return {"as_of": today.isoformat(), "year": today.year, "regions": listing}


def _summary(office, today: date, late: list[LateOrganisation]) -> str:
    unregistered = sum(1 for org in late if ORG_LATE in org.missed)
    short = [org for org in late if PERSONS_LATE in org.missed]
    expected = sum(org.expected for org in short)
    registered = sum(org.registered for org in short)
    return (
        f"截至{today.year}年{today.month}月{today.day}日，{office.name}辖区内共有{len(late)}家单位"
        f"注册进度滞后：{unregistered}家单位逾期未完成单位注册，{len(short)}家单位专业技术人员"
        f"未按期注册齐全（应注册{expected}人，已注册{registered}人）。"
    )


def insert_once(session: Session, notice: SupervisionNotice) -> bool:
    """Insert the notice unless another transaction already has; return whether this one won.

    The SAVEPOINT keeps the caller's transaction usable after losing (PostgreSQL would otherwise
    abort it); a concurrent loser waits on the unique index until the winner commits, then skips.
    """
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:
        log.info("supervision notice of HRSS %s for %s was produced elsewhere", notice.hrss_id, notice.period)
        return False
    return True


def organisation_summary(org: dict) -> str:
    """Return what a notice tells one late organisation (a row of `details`): the deadlines it missed."""
    lines, missed = [], org.get("missed", {})
    if ORG_LATE in missed:
        lines.append(f"单位注册截止日期为{missed[ORG_LATE]}，贵单位尚未完成注册，请尽快办理。")
    if PERSONS_LATE in missed:
        lines.append(
            f"专业技术人员注册截止日期为{missed[PERSONS_LATE]}，贵单位应注册{org['expected']}人，"
            f"已注册{org['registered']}人，尚差{org['shortfall']}人，请督促尽快注册。"
        )
    return "".join(lines)


def _admin_notice(org: LateOrganisation, notice: SupervisionNotice, now: datetime) -> Notice:
    body = organisation_summary({**asdict(org), "shortfall": org.shortfall})
    title = f"督导通报：{org.name}注册进度滞后（{notice.period}）"
    recipient = user_principal(org.admin_user_id)
    return Notice(recipient=recipient, kind=NOTICE_KIND, title=title, body=body, created_at=now)


def _write_notices(session, notice, office, admins_of: list[LateOrganisation], now) -> None:
    for role in HRSS_ROLES:
        recipient = group_principal(OrganisationKind.HRSS, office.region_code, role)
        session.add(
            Notice(
                recipient=recipient, kind=NOTICE_KIND, title=notice.title, body=notice.summary, created_at=now
            )
        )
    session.add_all(_admin_notice(org, notice, now) for org in admins_of if org.admin_user_id is not None)


def _new_notice(office, period: str, now: datetime, late, regions) -> SupervisionNotice:
    today = china_day(now)
    return SupervisionNotice(
        hrss_id=office.id,
        period=period,
        created_at=now,
        title=f"{office.name}继续教育注册工作督导通报（{period}）",
        summary=_summary(office, today, late),
        late_count=len(late),
        details=_details(today, late, regions),
    )


def produce_supervision_notices(
    session: Session, period: str, now: datetime, mailer: Mailer | None = None, recipients: Sequence[str] = ()
) -> list[int]:
    """Produce each active HRSS's notice for the period, once; return the ids this call produced.

    An HRSS with nothing late gets no notice. The caller commits. With a mailer and recipients,
    each notice this call produced is mailed after that commit; a rolled-back call mails nothing.
    """
    if not session.in_transaction():
        session.connection(execution_options={"ceflow_write": True})  # SQLite: BEGIN IMMEDIATE
    regions = load_regions(session)
    offices = _offices(session)
    late = find_late_organisations(session, china_day(now), regions)
    listed, nearest = assign_to_offices(late, offices, regions)
    done = set(session.scalars(select(SupervisionNotice.hrss_id).where(SupervisionNotice.period == period)))
    produced = []
    for office in offices:
        if office.id in done or not listed.get(office.id):
            continue
        notice = _new_notice(office, period, now, listed[office.id], regions)
        if insert_once(session, notice):
            admins_of = [org for org in listed[office.id] if nearest[org.id] == office.id]
            _write_notices(session, notice, office, admins_of, now)
            produced.append(notice)
    if mailer is not None and recipients and produced:
        _mail_after_commit(session, [notice_mail(n) for n in produced], mailer, list(recipients))
    return [notice.id for notice in produced]


def _mail_after_commit(session: Session, mails: list, mailer: Mailer, recipients: list[str]) -> None:
    """Send the mails once the session's outermost transaction commits; drop them if it rolls back."""
    state = {"pending": True}

    @event.listens_for(session, "after_soft_rollback")
    def _discard(_session, previous) -> None:
        if previous.parent is None:
            state["pending"] = False

    @event.listens_for(session, "after_commit")
    def _send(committed: Session) -> None:
        if not state["pending"] or committed.in_nested_transaction():
            return  # rolled back, or only a SAVEPOINT was released
        state["pending"] = False
        for subject, body, attachments in mails:
            try:
                mailer.send(recipients, subject, body, attachments)
            except Exception:  # the notice is stored and in the notice centre; mail is best effort
                log.exception("supervision notice mail %r was not sent", subject)
