"""Course use cases: file a course with the HRSS (R7), refile a change, take a course out of the catalogue,
enrol, record payments and invoices (R13), hand out the pass certificate (R8).

The filing's record and the process it starts are one command, as with registrations: either both
are stored or neither is.
"""

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from domain.accounts.users import Actor
from domain.courses import enrolment
from domain.courses import filing
from domain.courses import pass_certificate
from domain.courses.filing import CourseApplication
from domain.courses.filing import CourseRefused
from domain.courses.records import Course
from domain.files import FileStore
from domain.text import TextRefused
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.tasks.commands import start_in

REFUSALS = (CourseRefused, TextRefused)
PROCESS = "course_filing"


def file_course(
    rt: Runtime, actor: Actor, application: CourseApplication, supersedes_id: int | None = None
) -> int:
    """File a course (or a change to an approved one) for the actor's organisation; return the instance id."""

    def body(ctx: CommandContext) -> int:
        filer = filing.filer_for(ctx.session, actor)
        course = filing.open_course_filing(ctx.session, filer, application, ctx.now, actor.id, supersedes_id)
        data = filing.process_data(ctx.session, course, filer)
        return start_in(
            ctx, PROCESS, data, business_key=f"course_id:{course.id}", submit=dict(data), initiator=actor
        )

    return run_command(rt, "file_course", actor, body, refusals=REFUSALS)


def retire_course(rt: Runtime, actor: Actor, course_id: int, reason: str) -> None:
    """Take an approved course out of the catalogue: its filer's admin, or an HRSS over its region."""
    with unit_of_work(rt) as session:
        course = session.get(Course, course_id)
        if course is None or not filing.may_retire(
            session, actor, course.filer_id, course.region_code, course.status
        ):
            raise CourseRefused("course_not_in_catalogue")
        filing.retire_course(session, course_id, reason, rt.clock())


def enrol(rt: Runtime, actor: Actor, course_id: int) -> int:
    """Enrol the signed-in person in a course; a second submission is refused, never doubled."""
    try:
        with unit_of_work(rt) as session:
            return enrolment.enrol_self(session, actor, course_id, rt.clock()).id
    except IntegrityError as twice:  # the same person's second click raced the first past the check
        raise enrolment.raced() from twice


def enrol_persons(rt: Runtime, actor: Actor, course_id: int, person_ids: list[int]) -> enrolment.BulkResult:
    """Enrol an employer's persons in one order (those already enrolled are reported, not doubled)."""
    try:
        with unit_of_work(rt) as session:
            return enrolment.enrol_in_bulk(session, actor, course_id, person_ids, rt.clock())
    except IntegrityError as twice:  # a second bulk order raced this one: nothing of this one is kept
        raise enrolment.raced() from twice


def confirm_payment(rt: Runtime, actor: Actor, enrolment_ids: list[int], method: str) -> int:
    """The institution confirms fees received; return how many enrolments it newly confirmed."""
    with unit_of_work(rt) as session:
        return enrolment.confirm_payment(session, actor, enrolment_ids, method, rt.clock())


def request_invoice(rt: Runtime, actor: Actor, enrolment_ids: list[int], title: str, tax_id: str) -> None:
    with unit_of_work(rt) as session:
        enrolment.request_invoice(session, actor, enrolment_ids, title, tax_id, rt.clock())


def record_invoice(rt: Runtime, actor: Actor, enrolment_ids: list[int], number: str) -> None:
    with unit_of_work(rt) as session:
        enrolment.record_invoice(session, actor, enrolment_ids, number)


def pass_certificate_pdf(
    rt: Runtime, actor: Actor, enrolment_id: int, store: FileStore, verify_url: Callable[[str], str]
) -> tuple[str, bytes]:
    """Return the code and PDF of the person's own pass certificate, issuing it on the first request.

    Every later request returns the same stored document. CertificateNotFound unless the enrolment
    is the actor's and passed and credited.
    """
    try:
        return _kept_certificate(rt, actor, enrolment_id, store, verify_url)
    except IntegrityError:  # two first downloads at once: the other one issued it, so read that one
        return _kept_certificate(rt, actor, enrolment_id, store, verify_url)


def _kept_certificate(rt, actor, enrolment_id, store, verify_url) -> tuple[str, bytes]:
    with unit_of_work(rt) as session:
        found = pass_certificate.certificate_of(session, actor, enrolment_id)
        if found is None:
            found = pass_certificate.issue_certificate(
                session, store, actor, enrolment_id, verify_url, rt.clock()
            )
        return found.code, store.read(session, found.file_key)
