"""Service-task operations of the score submission process (score_submission)."""

from datetime import datetime

from sqlalchemy.orm import Session

from domain.courses import scores


def take_score_submission(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Put the (re)submitted file under the HRSS's review; one it replaced is kept as superseded."""
    return scores.take_submission(session, data, now)


def credit_scores(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Credit the approved results in one statement: each passed row gives its enrolment the hours."""
    credited, skipped = scores.credit_submission(session, int(data["submission_id"]), now)
    return {"credited": credited, "skipped_on_credit": skipped}


def end_score_submission(session: Session, data: dict, status: str, *, now: datetime) -> None:
    """Close a submission whose process ended without approval: nothing is credited."""
    scores.close_submission(session, int(data["submission_id"]), status, now)


OPERATIONS = {"take_score_submission": take_score_submission, "credit_scores": credit_scores}
END_HOOKS = {"score_submission": end_score_submission}
