"""Score submission (R8): the institution's results of a filed course, checked, reviewed, then credited.

An accepted submission keeps its rows (one per enrolment it credits) until the approving HRSS decides;
on approval every row is credited in one statement. A refused file stores nothing but its refusal and
the error report. Nothing credits twice: an enrolment already credited is skipped and reported, a file
identical to one pending or credited is refused, and the training platform's result ids are unique.

Cut-off (R10): the policy calendar has two online-training deadlines, for title applicants and for
everyone else; a person record says nothing about applying for a title this year, so the general
deadline ("others") applies to every row.
"""

import enum
import hashlib
import secrets
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import null
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.accounts.principals import org_principal
from domain.accounts.users import Actor
from domain.base import Base
from domain.calendar.deadlines import china_day
from domain.calendar.policy import policy_for
from domain.courses.enrolment import Enrolment
from domain.courses.filing import approving_region
from domain.courses.records import Course
from domain.courses.records import CourseStatus
from domain.courses.score_files import DATE
from domain.courses.score_files import HOURS
from domain.courses.score_files import ID
from domain.courses.score_files import NAME
from domain.courses.score_files import ScoreLine
from domain.courses.score_files import ScoreProblem
from domain.courses.score_files import read_line
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.refusals import Refusal
from infra.bulk_rows import write_rows

CHUNK = 900  # values in one IN (...): below SQLite's old 999-parameter limit
CUT_OFF = "online_training_others"


class ScoreRefused(Refusal):
    """A score submission that cannot be accepted as a whole; `code` and `params` say why."""


class SubmissionStatus(enum.StrEnum):
    PENDING = "pending"  # with the HRSS, or returned to the institution for a new file
    CREDITED = "credited"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"  # a returned submission the institution replaced by a new file
    REFUSED = "refused"  # bad rows: only the refusal and its error report are kept


LIVE = (SubmissionStatus.PENDING, SubmissionStatus.CREDITED)


class ScoreSubmission(Base):
    """One upload (a file, or one call of the results API) for one course, and what became of it."""

    __tablename__ = "score_submission"
    __table_args__ = (Index("ix_score_submission_course_sha", "course_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # file or api
    file_name: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_key: Mapped[str | None] = mapped_column(String(32))  # the uploaded file in the file store
    report_key: Mapped[str | None] = mapped_column(String(32))  # the error report of a refused file
    rows: Mapped[int]
    skipped: Mapped[int]  # rows of enrolments already credited
    problems: Mapped[int]
    credited: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16))
    instance_id: Mapped[int | None]
    submitted_by_id: Mapped[int | None]
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ScoreRow(Base):
    """One result of an accepted submission, waiting for the HRSS: the enrolment it credits on approval."""

    __tablename__ = "score_row"
    __table_args__ = (Index("ix_score_row_submission", "submission_id", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("score_submission.id"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"))
    score: Mapped[str] = mapped_column(String(16))
    passed: Mapped[bool]
    completed_on: Mapped[date]
    hours: Mapped[int]
    # "<institution id>:<the training platform's result id>": the same result is received once
    result_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class InstitutionToken(Base):
    """A bearer token an institution's training platform sends to the results API; only its hash is kept."""

    __tablename__ = "institution_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


@dataclass(frozen=True)
class CheckedScores:
    """A file's rows checked against the course: the rows to credit, those already credited, the problems."""

    rows: list[tuple[int, ScoreLine]]  # (enrolment id, line)
    skipped: list[ScoreLine]
    problems: list[ScoreProblem]


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def scoring_course(session: Session, actor: Actor | None, course_id: int, institution_id: int) -> Course:
    """Return an approved (or since retired) course the institution filed; refuse any other."""
    course = session.get(Course, course_id)
    if course is None or course.filer_id != institution_id:
        raise ScoreRefused("score_course_not_found")
    if course.status not in (CourseStatus.APPROVED, CourseStatus.RETIRED, CourseStatus.SUPERSEDED):
        raise ScoreRefused("score_course_not_approved")
    if actor is not None and org_principal(institution_id, "admin") not in actor.principals:
        raise ScoreRefused("score_not_institution")
    return course


def check_lines(
    session: Session, course: Course, lines: list[ScoreLine], problems: list[ScoreProblem], now: datetime
) -> CheckedScores:
    """Check each line against the database in bulk: the person, the enrolment, the hours, the dates."""
    policy = policy_for(session, course.year, course.region_code)
    if policy is None:
        raise ScoreRefused("score_no_calendar", year=course.year)
    cut_off = min(policy.deadline(CUT_OFF), date(course.year, 12, 31))
    today = china_day(now)
    problems = list(problems)
    first_row: dict[str, int] = {}
    unique: list[ScoreLine] = []
    for line in lines:
        if line.id_number in first_row:
            problems.append(
                ScoreProblem("score_duplicate_row", row=line.row, column=ID, first=first_row[line.id_number])
            )
            continue
        first_row[line.id_number] = line.row
        unique.append(line)
    persons = _persons(session, [line.id_number for line in unique])
    enrolled = _enrolments(session, course.id, [p[0] for p in persons.values()])
    rows: list[tuple[int, ScoreLine]] = []
    skipped: list[ScoreLine] = []
    for line in unique:
        found = len(problems)
        person = persons.get(line.id_number)
        if person is None:
            problems.append(ScoreProblem("score_unknown_person", row=line.row, column=ID))
            continue
        person_id, name = person
        if name != line.name:
            problems.append(ScoreProblem("score_name_mismatch", row=line.row, column=NAME, name=line.name))
        enrolment = enrolled.get(person_id)
        if enrolment is None:
            problems.append(ScoreProblem("score_not_enrolled", row=line.row, column=ID, title=course.title))
        if line.hours > course.hours:
            problems.append(
                ScoreProblem(
                    "score_hours_high", row=line.row, column=HOURS, value=line.hours, high=course.hours
                )
            )
        if line.completed_on.year != course.year:
            problems.append(
                ScoreProblem(
                    "score_date_year", row=line.row, column=DATE, day=line.completed_on, year=course.year
                )
            )
        elif line.completed_on > cut_off:
            problems.append(
                ScoreProblem(
                    "score_date_cut_off", row=line.row, column=DATE, day=line.completed_on, cut_off=cut_off
                )
            )
        elif line.completed_on > today:
            problems.append(
                ScoreProblem("score_date_future", row=line.row, column=DATE, day=line.completed_on)
            )
        if len(problems) > found:
            continue
        enrolment_id, credited = enrolment
        if credited:
            skipped.append(line)
        else:
            rows.append((enrolment_id, line))
    return CheckedScores(rows, skipped, problems)


def _persons(session: Session, id_numbers: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(id_numbers):
        query = select(Person.id_number, Person.id, Person.name).where(Person.id_number.in_(chunk))
        for id_number, person_id, name in session.execute(query):
            found[id_number] = (person_id, name)
    return found


def _enrolments(session: Session, course_id: int, person_ids: list[int]) -> dict[int, tuple[int, bool]]:
    found: dict[int, tuple[int, bool]] = {}
    for chunk in _chunks(person_ids):
        query = select(Enrolment.person_id, Enrolment.id, Enrolment.credited_at.is_not(None)).where(
            Enrolment.course_id == course_id, Enrolment.person_id.in_(chunk)
        )
        for person_id, enrolment_id, credited in session.execute(query):
            found[person_id] = (enrolment_id, bool(credited))
    return found


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def refuse_same_file(session: Session, course_id: int, sha256: str) -> None:
    """Refuse a file identical to one of the course's submissions that is pending or credited."""
    same = session.scalar(
        select(ScoreSubmission.id).where(
            ScoreSubmission.course_id == course_id,
            ScoreSubmission.sha256 == sha256,
            ScoreSubmission.status.in_(LIVE),
        )
    )
    if same is not None:
        raise ScoreRefused("score_file_duplicate", submission=same)


def record_refusal(
    session: Session,
    course: Course,
    *,
    file_name: str | None,
    sha256: str | None,
    report_key: str | None,
    problems: int,
    rows: int,
    by_id: int | None,
    now: datetime,
) -> ScoreSubmission:
    """Keep the refusal of a file with bad rows: its name, its error report, how many problems; no row."""
    refusal = ScoreSubmission(
        course_id=course.id,
        institution_id=course.filer_id,
        source="file" if file_name else "api",
        file_name=file_name,
        sha256=sha256,
        report_key=report_key,
        rows=rows,
        skipped=0,
        problems=problems,
        status=SubmissionStatus.REFUSED,
        submitted_by_id=by_id,
        submitted_at=now,
        decided_at=now,
    )
    session.add(refusal)
    session.flush()
    return refusal


def open_submission(
    session: Session,
    course: Course,
    checked: CheckedScores,
    *,
    source: str,
    file_name: str | None,
    sha256: str | None,
    file_key: str | None,
    by_id: int | None,
    now: datetime,
) -> ScoreSubmission:
    """Store an accepted submission and its rows, pending the HRSS's review."""
    if not checked.rows:
        raise ScoreRefused("score_nothing_new", skipped=len(checked.skipped))
    submission = ScoreSubmission(
        course_id=course.id,
        institution_id=course.filer_id,
        source=source,
        file_name=file_name,
        sha256=sha256,
        file_key=file_key,
        rows=len(checked.rows),
        skipped=len(checked.skipped),
        problems=0,
        status=SubmissionStatus.PENDING,
        submitted_by_id=by_id,
        submitted_at=now,
    )
    session.add(submission)
    session.flush()
    write_rows(
        session.connection(), ScoreRow.__table__, _row_values(submission.id, course.filer_id, checked.rows)
    )
    return submission


def _row_values(
    submission_id: int, institution_id: int, rows: Iterable[tuple[int, ScoreLine]]
) -> Iterator[dict]:
    for enrolment_id, line in rows:
        yield {
            "submission_id": submission_id,
            "enrolment_id": enrolment_id,
            "score": line.score,
            "passed": line.passed,
            "completed_on": line.completed_on,
            "hours": line.hours,
            "result_key": f"{institution_id}:{line.result_id}" if line.result_id else None,
        }


def process_data(session: Session, course: Course, submission: ScoreSubmission) -> dict:
    """Return what the score submission process routes and shows by: the approving HRSS reviews it."""
    return {
        "submission_id": submission.id,
        "course_id": course.id,
        "region_code": approving_region(session, course),
        "filing_number": course.filing_number,
        "title": course.title,
        "year": course.year,
        "rows": submission.rows,
        "skipped": submission.skipped,
        "subject": f"成绩报送：{course.title}（{course.year}年，{submission.rows}人）",
    }


def take_submission(session: Session, instance_data: dict, now: datetime) -> dict:
    """Put the (re)submitted file under review; a file it replaces after a return is kept as superseded."""
    submission = session.get(ScoreSubmission, int(instance_data["submission_id"]))
    if submission.instance_id is not None:
        session.execute(
            update(ScoreSubmission)
            .where(
                ScoreSubmission.instance_id == submission.instance_id,
                ScoreSubmission.id != submission.id,
                ScoreSubmission.status == SubmissionStatus.PENDING,
            )
            .values(status=SubmissionStatus.SUPERSEDED, decided_at=now)
        )
    submission.status = SubmissionStatus.PENDING
    return {
        "rows": submission.rows,
        "subject": f"成绩报送：{instance_data.get('title')}（{submission.rows}人）",
    }


def credit_submission(session: Session, submission_id: int, now: datetime) -> tuple[int, int]:
    """Credit every row of an approved submission in one statement; return (credited, already credited).

    A passed row sets the enrolment's score, completion date, hours (never above the course's) and
    when; a failed row records the score alone. An enrolment credited meanwhile (by another
    submission) keeps its first credit.
    """
    submission = session.get(ScoreSubmission, submission_id, with_for_update=True)
    if submission.status != SubmissionStatus.PENDING:
        raise ScoreRefused("score_not_pending")
    hours = select(Course.hours).where(Course.id == submission.course_id).scalar_subquery()
    result = session.execute(
        update(Enrolment)
        .where(
            and_(
                Enrolment.id == ScoreRow.enrolment_id,
                ScoreRow.submission_id == submission_id,
                Enrolment.credited_at.is_(None),
            )
        )
        .values(
            score=ScoreRow.score,
            passed=ScoreRow.passed,
            completed_on=ScoreRow.completed_on,
            hours_credited=case(
                (ScoreRow.passed, case((ScoreRow.hours > hours, hours), else_=ScoreRow.hours)), else_=null()
            ),
            credited_at=case((ScoreRow.passed, now), else_=null()),
        )
        .execution_options(synchronize_session=False)
    )
    credited = int(result.rowcount or 0)
    submission.status, submission.decided_at = SubmissionStatus.CREDITED, now
    submission.credited = credited
    return credited, submission.rows - credited


def close_submission(session: Session, submission_id: int, status: str, now: datetime) -> None:
    """Close a submission whose process ended without approval (rejected, withdrawn, terminated)."""
    final = SubmissionStatus.REJECTED if status == "rejected" else SubmissionStatus.WITHDRAWN
    session.execute(
        update(ScoreSubmission)
        .where(ScoreSubmission.id == submission_id, ScoreSubmission.status == SubmissionStatus.PENDING)
        .values(status=final, decided_at=now)
    )


def returned_submission(session: Session, instance_id: int | None) -> ScoreSubmission:
    """Return the newest submission of a score process (a corrected file replaces it); refuse any other."""
    earlier = None
    if instance_id is not None:
        earlier = session.scalar(
            select(ScoreSubmission)
            .where(ScoreSubmission.instance_id == instance_id)
            .order_by(ScoreSubmission.id.desc())
            .limit(1)
        )
    if earlier is None:
        raise ScoreRefused("score_not_returned")
    return earlier


def unit_admin_id(session: Session, institution_id: int) -> int:
    """Return the institution's unit admin, who starts the process of results its platform sends."""
    admin_id = session.scalar(select(Organisation.admin_user_id).where(Organisation.id == institution_id))
    if admin_id is None:
        raise ScoreRefused("score_no_unit_admin")
    return admin_id


def results_raced() -> ScoreRefused:
    """The refusal for results that lost a race with the same result ids sent at once."""
    return ScoreRefused("score_api_race")


def link_instance(session: Session, submission_id: int, instance_id: int) -> None:
    session.execute(
        update(ScoreSubmission).where(ScoreSubmission.id == submission_id).values(instance_id=instance_id)
    )


# --- the results API ----------------------------------------------------------------------------------

MAX_API_RESULTS = 5000
FIELDS = ("id_number", "name", "score", "passed", "hours", "completed_on")


def read_results(results, today: date) -> tuple[list[ScoreLine], list[ScoreProblem]]:
    """Read the API's results as the file's rows (row n is the n-th result), with the same cell checks."""
    if not isinstance(results, list) or not results:
        raise ScoreRefused("score_api_no_results")
    if len(results) > MAX_API_RESULTS:
        raise ScoreRefused("score_api_too_many", limit=MAX_API_RESULTS)
    lines: list[ScoreLine] = []
    problems: list[ScoreProblem] = []
    seen: dict[str, int] = {}
    for number, result in enumerate(results, start=1):
        if not isinstance(result, dict):
            problems.append(ScoreProblem("score_api_not_object", row=number, column="-"))
            continue
        result_id = str(result.get("result_id") or "").strip()
        if not result_id or len(result_id) > 64:
            problems.append(ScoreProblem("score_api_result_id", row=number, column="result_id"))
            continue
        if result_id in seen:
            problems.append(
                ScoreProblem("score_duplicate_result", row=number, column="result_id", first=seen[result_id])
            )
            continue
        seen[result_id] = number
        line = read_line(number, [result.get(name) for name in FIELDS], problems, today)
        if line is not None:
            lines.append(
                ScoreLine(
                    line.row,
                    line.id_number,
                    line.name,
                    line.score,
                    line.passed,
                    line.hours,
                    line.completed_on,
                    result_id,
                )
            )
    return lines, problems


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, organisation_id: int, created_by: str, now: datetime) -> str:
    """Make a new API token for an active institution; return it (shown once: only its hash is kept)."""
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind != "institution":
        raise ScoreRefused("score_token_not_institution", org=organisation_id)
    token = secrets.token_urlsafe(32)
    session.add(
        InstitutionToken(
            organisation_id=org.id, token_hash=token_hash(token), created_by=created_by, created_at=now
        )
    )
    session.flush()
    return token


def institution_of_token(session: Session, token: str) -> int | None:
    """Return the institution a bearer token speaks for, or None for an unknown or revoked one."""
    if not token:
        return None
    return session.scalar(
        select(InstitutionToken.organisation_id).where(
            InstitutionToken.token_hash == token_hash(token), InstitutionToken.revoked_at.is_(None)
        )
    )


def known_results(session: Session, institution_id: int, result_ids: list[str]) -> dict[str, int]:
    """Return the submissions that already carry some of these result ids, by result id."""
    keys = {f"{institution_id}:{rid}": rid for rid in result_ids}
    found: dict[str, int] = {}
    for chunk in _chunks(list(keys)):
        query = select(ScoreRow.result_key, ScoreRow.submission_id).where(ScoreRow.result_key.in_(chunk))
        for key, submission_id in session.execute(query):
            found[keys[key]] = submission_id
    return found


@dataclass(frozen=True)
class SubmissionView:
    id: int
    course_id: int
    status: str
    rows: int
    skipped: int
    problems: int
    credited: int | None
    instance_id: int | None
    report_key: str | None


def submission_view(session: Session, submission_id: int) -> SubmissionView:
    row = session.get(ScoreSubmission, submission_id)
    return SubmissionView(
        row.id,
        row.course_id,
        row.status,
        row.rows,
        row.skipped,
        row.problems,
        row.credited,
        row.instance_id,
        row.report_key,
    )


@dataclass(frozen=True)
class SubmissionRow:
    """A course's score submission as its institution's page lists it."""

    id: int
    source: str
    file_name: str | None
    rows: int
    skipped: int
    problems: int
    credited: int | None
    status: str
    has_report: bool
    submitted_at: datetime
    returned_task_id: int | None  # the institution's open step after the HRSS returned the file


def submissions_of_course(
    session: Session, course_id: int, open_steps: dict[int, int]
) -> list[SubmissionRow]:
    """Return a course's submissions, newest first; `open_steps` maps an instance to its returned step."""
    rows = session.execute(
        select(
            ScoreSubmission.id,
            ScoreSubmission.source,
            ScoreSubmission.file_name,
            ScoreSubmission.rows,
            ScoreSubmission.skipped,
            ScoreSubmission.problems,
            ScoreSubmission.credited,
            ScoreSubmission.status,
            ScoreSubmission.report_key.is_not(None),
            ScoreSubmission.submitted_at,
            ScoreSubmission.instance_id,
        )
        .where(ScoreSubmission.course_id == course_id)
        .order_by(ScoreSubmission.id.desc())
        .limit(100)
    )
    return [
        SubmissionRow(*row[:-1], open_steps.get(row[-1]) if row[7] == SubmissionStatus.PENDING else None)
        for row in rows
    ]


def report_key_of(session: Session, course_id: int, submission_id: int) -> str | None:
    """Return the file-store key of a refused submission's error report, if it belongs to the course."""
    return session.scalar(
        select(ScoreSubmission.report_key).where(
            ScoreSubmission.id == submission_id, ScoreSubmission.course_id == course_id
        )
    )
