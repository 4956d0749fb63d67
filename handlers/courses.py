"""Service-task operations of the course filing process (course_filing)."""

from datetime import datetime

from sqlalchemy.orm import Session

from domain.courses import filing


def update_course(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Apply the filer's (re)submitted form to the pending filing; the subject follows a new title."""
    return filing.update_course_filing(session, int(data["course_id"]), data, now)


def approve_course(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Approve the filing (备案同意): the course enters the catalogue under its filing number."""
    return {"filing_number": filing.approve_course_filing(session, int(data["course_id"]), now)}


def end_course_filing(session: Session, data: dict, status: str, *, now: datetime) -> None:
    """Close a filing that ended without approval."""
    filing.close_course_filing(session, int(data["course_id"]), status, now)


OPERATIONS = {"update_course": update_course, "approve_course": approve_course}
END_HOOKS = {"course_filing": end_course_filing}
