"""Service-task operations, registered by the name a diagram's serviceTaskOperator uses."""

from datetime import datetime

from sqlalchemy.orm import Session

from domain.notices.records import Notice
from handlers import courses
from handlers import registration
from handlers import scores


def notify_applicant(session: Session, data: dict, *, now: datetime, title: str = "", **_) -> dict:
    """Tell the applicant how the application ended, in their notice centre."""
    decision = data.get("decision", "approve")
    text = title or ("您的申请已通过" if decision == "approve" else "您的申请未通过")
    session.add(
        Notice(
            recipient=f"u:{data['initiator_id']}",
            kind="result",
            title=text,
            body=str(data.get("subject", "")),
            created_at=now,
        )
    )
    return {"notified": True}


def operations() -> dict:
    """Return the registry: operation name -> handler."""
    return {
        "notify_applicant": notify_applicant,
        **registration.OPERATIONS,
        **courses.OPERATIONS,
        **scores.OPERATIONS,
    }


def end_hooks() -> dict:
    """Return what to do when a process of a key ends without approval (rejected, withdrawn, terminated)."""
    return {**registration.END_HOOKS, **courses.END_HOOKS, **scores.END_HOOKS}
