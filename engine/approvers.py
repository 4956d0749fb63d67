"""Whom an administrator can reassign a task to: the active staff behind its candidates and its holder."""

from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts import User
from domain.organisations import Organisation
from engine.models import HumanTask


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
    user_ids = {int(p[2:]) for p in task.candidates.split() if p.startswith("u:")}
    user_ids |= {i for i in (task.assignee_id, task.owner_id) if i is not None}
    held_by = select(User.organisation_id).where(User.id.in_(user_ids)).scalar_subquery()
    rows = session.execute(
        select(User.id, User.display_name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.active.is_(True),
            or_(
                User.id.in_(user_ids), Organisation.id.in_(held_by), _candidate_organisations(task.candidates)
            ),
        )
        .order_by(Organisation.name, User.display_name, User.id)
    )
    return [Approver(*row) for row in rows]


def _candidate_organisations(candidates: str):
    """Return the SQL condition on Organisation for the group (g:) and organisation (o:) principals."""
    clauses = []
    for principal in candidates.split():
        parts = principal.split(":")
        if parts[0] == "g" and len(parts) == 4:
            clauses.append(and_(Organisation.kind == parts[1], Organisation.region_code == parts[2]))
        elif parts[0] == "o" and len(parts) == 3 and parts[1].isdigit():
            clauses.append(Organisation.id == int(parts[1]))
    return or_(*clauses) if clauses else false()
