"""Score submission use cases (R8): an institution's file or its training platform's results, to the HRSS.

A file is checked whole before anything is kept: a file with any bad row is refused, and the only
thing stored is the refusal with its error report (.xlsx), which the institution downloads. An
accepted file, its rows and the process that takes it to the approving HRSS are one transaction.
The results API takes the same path, row for row, and answers a repeated result id with what it
answered the first time.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from domain.accounts.users import Actor
from domain.accounts.users import actor_for
from domain.calendar.deadlines import china_day
from domain.courses import scores
from domain.courses.score_files import RowsRefused
from domain.courses.score_files import ScoreFileRefused
from domain.courses.score_files import error_report
from domain.courses.score_files import read_score_file
from domain.courses.scores import ScoreRefused
from domain.courses.scores import ScoreSubmission
from domain.files import FileStore
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.models import HumanTask
from engine.tasks.commands import complete_in
from engine.tasks.commands import start_in

REFUSALS = (ScoreRefused, ScoreFileRefused, RowsRefused)
PROCESS = "score_submission"
Explain = Callable[[str, dict], str]


@dataclass(frozen=True)
class Accepted:
    """An accepted submission, on its way to the HRSS: how many rows it credits, how many were already."""

    submission_id: int
    instance_id: int | None
    status: str
    rows: int
    skipped: int


def submit_score_file(
    rt: Runtime, actor: Actor, course_id: int, file_name: str, data: bytes, store: FileStore, explain: Explain
) -> Accepted:
    """Check an institution's score file and send it to the approving HRSS; refuse it whole on any bad row."""
    lines, problems = read_score_file(data, china_day(rt.clock()))

    def body(ctx: CommandContext):
        course = scores.scoring_course(ctx.session, actor, course_id, actor.organisation_id or 0)
        submission = _checked_file(ctx, actor, course, file_name, data, lines, problems, store, explain)
        if isinstance(submission, RowsRefused):
            return submission
        return _start_review(ctx, course, submission, actor)

    return _refused_or(run_command(rt, "submit_scores", actor, body, refusals=REFUSALS))


def resubmit_score_file(
    rt: Runtime,
    actor: Actor,
    task_id: int,
    file_name: str,
    data: bytes,
    store: FileStore,
    explain: Explain,
    opinion: str = "",
) -> Accepted:
    """Answer a returned submission with a corrected file: checked as a new one, then back to the HRSS."""
    lines, problems = read_score_file(data, china_day(rt.clock()))

    def body(ctx: CommandContext):
        row = ctx.session.get(HumanTask, task_id)
        earlier = scores.returned_submission(ctx.session, row.instance_id if row else None)
        course = scores.scoring_course(ctx.session, actor, earlier.course_id, actor.organisation_id or 0)
        submission = _checked_file(ctx, actor, course, file_name, data, lines, problems, store, explain)
        if isinstance(submission, RowsRefused):
            return submission
        submission.instance_id = row.instance_id
        complete_in(ctx, task_id, {"submission_id": submission.id}, opinion, "approve")
        return _accepted(submission, row.instance_id)

    return _refused_or(run_command(rt, "resubmit_scores", actor, body, task_id, refusals=REFUSALS))


def _checked_file(ctx, actor, course, file_name, data, lines, problems, store, explain):
    """Return the new pending submission, or the recorded refusal (with its report) of a bad file."""
    session, now = ctx.session, ctx.now
    sha256 = scores.file_digest(data)
    scores.refuse_same_file(session, course.id, sha256)
    checked = scores.check_lines(session, course, lines, problems, now)
    if checked.problems:
        report = store.put(session, error_report(checked.problems, explain))
        refusal = scores.record_refusal(
            session,
            course,
            file_name=file_name,
            sha256=sha256,
            report_key=report,
            problems=len(checked.problems),
            rows=len(lines) + len(problems),
            by_id=actor.id,
            now=now,
        )
        return RowsRefused(checked.problems, refusal.id)
    return scores.open_submission(
        session,
        course,
        checked,
        source="file",
        file_name=file_name,
        sha256=sha256,
        file_key=store.put(session, data),
        by_id=actor.id,
        now=now,
    )


def _start_review(ctx: CommandContext, course, submission: ScoreSubmission, initiator: Actor) -> "Accepted":
    """Start the review of an accepted submission in the command that stored it, submitted by `initiator`."""
    payload = scores.process_data(ctx.session, course, submission)
    instance_id = start_in(
        ctx,
        PROCESS,
        payload,
        business_key=f"score_submission:{submission.id}",
        submit={},
        initiator=initiator,
    )
    scores.link_instance(ctx.session, submission.id, instance_id)
    return _accepted(submission, instance_id)


def _accepted(submission: ScoreSubmission, instance_id: int | None) -> Accepted:
    return Accepted(submission.id, instance_id, submission.status, submission.rows, submission.skipped)


def _refused_or(outcome):
    """Raise the refusal of a file with bad rows once its record is committed; else return the outcome."""
    if isinstance(outcome, RowsRefused):
        raise outcome
    return outcome


def submit_results(rt: Runtime, institution_id: int, course_id: int, results: list) -> Accepted:
    """Take the training platform's online-exam results: the file's checks, then the same review and credit.

    Each result carries the platform's `result_id`; a result id received before is not taken again,
    and a call whose every result was received before is answered as the first one was.
    """
    lines, problems = scores.read_results(results, china_day(rt.clock()))
    result_ids = [line.result_id for line in lines]

    def body(ctx: CommandContext):
        session = ctx.session
        known = scores.known_results(session, institution_id, result_ids)
        if known and len(known) == len(results) and len(set(known.values())) == 1:
            return _accepted_view(session, next(iter(known.values())))
        course = scores.scoring_course(session, None, course_id, institution_id)
        fresh = [line for line in lines if line.result_id not in known]
        checked = scores.check_lines(session, course, fresh, problems, ctx.now)
        if checked.problems:
            raise RowsRefused(checked.problems)
        submission = scores.open_submission(
            session,
            course,
            checked,
            source="api",
            file_name=None,
            sha256=None,
            file_key=None,
            by_id=None,
            now=ctx.now,
        )
        submission.skipped += len(known)
        initiator = actor_for(session, scores.unit_admin_id(session, institution_id))
        return _start_review(ctx, course, submission, initiator)

    try:
        return run_command(rt, "submit_results", None, body, refusals=REFUSALS)
    except IntegrityError as raced:  # the same result ids arrived twice at once: the first one holds them
        raise scores.results_raced() from raced


def _accepted_view(session, submission_id: int) -> Accepted:
    view = scores.submission_view(session, submission_id)
    return Accepted(view.id, view.instance_id, view.status, view.rows, view.skipped)


def issue_token(rt: Runtime, organisation_id: int, created_by: str) -> str:
    """Make an API token for an institution's training platform; it is shown once."""
    with unit_of_work(rt) as session:
        return scores.issue_token(session, organisation_id, created_by, rt.clock())


def institution_of_token(rt: Runtime, token: str) -> int | None:
    with unit_of_work(rt, write=False) as session:
        return scores.institution_of_token(session, token)
