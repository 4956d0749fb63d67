"""Whom an administrator can reassign a task to: the active staff behind its candidates and its holder."""

from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.principals import Principals
from domain.accounts.principals import parse_principals
from domain.accounts.users import User
from domain.organisations.records import Organisation
from engine.runtime.models import HumanTask


@dataclass(frozen=True)
class Approver:
    id: int
    name: str
    organisation: str


def reassign_choices(session: Session, task_id: int) -> list[Approver]:
    """Return the active users of the organisations a task's candidates and holder belong to, by name."""
    task = session.get(HumanTask, task_id)
    if task is None:
        return []
    candidates = parse_principals(task.candidates.split())
    user_ids = set(candidates.users) | {i for i in (task.assignee_id, task.owner_id) if i is not None}
    held_by = select(User.organisation_id).where(User.id.in_(user_ids)).scalar_subquery()
    rows = session.execute(
        select(User.id, User.display_name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.active.is_(True),
            or_(User.id.in_(user_ids), Organisation.id.in_(held_by), _candidate_organisations(candidates)),
        )
        .order_by(Organisation.name, User.display_name, User.id)
    )
    return [Approver(*row) for row in rows]


def _candidate_organisations(candidates: Principals):
    """Return the SQL condition on Organisation for the group (g:) and organisation (o:) principals."""
    clauses = [
        and_(Organisation.kind == kind, Organisation.region_code == region)
        for kind, region, _ in candidates.groups
    ]
    clauses += [Organisation.id == org_id for org_id, _ in candidates.organisations]
    return or_(*clauses) if clauses else false()
