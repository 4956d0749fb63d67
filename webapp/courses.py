"""Courses: the catalogue (R15), filing a course (R7), one course with what the viewer may do there (R13)."""

import io

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from domain.calendar.deadlines import china_day
from domain.courses import catalogue
from domain.courses.enrolment import EnrolmentRefused
from domain.courses.enrolment import enrolled_among
from domain.courses.enrolment import enrolments_of_course
from domain.courses.enrolment import own_enrolments
from domain.courses.filing import CourseApplication
from domain.courses.filing import CourseRefused
from domain.courses.filing import fee_cents
from domain.courses.filing import may_retire
from domain.courses.records import CourseStatus
from domain.courses.score_files import RowsRefused
from domain.courses.score_files import ScoreFileRefused
from domain.courses.scores import ScoreRefused
from domain.courses.scores import ScoreSubmission
from domain.courses.scores import report_key_of
from domain.courses.scores import submissions_of_course
from domain.files import FileNotStored
from domain.organisations import directory
from domain.organisations.jurisdiction import NotVisible
from domain.persons import directory as person_directory
from domain.refusals import CodedError
from domain.supervision.documents import XLSX
from domain.text import TextRefused
from engine.errors import NotAllowed
from engine.errors import TaskNotFound
from engine.runtime.models import HumanTask
from forms.choices import TITLE_LEVEL_LABELS
from forms.courses import MODE_LABELS
from forms.courses import SUBJECT_LABELS
from forms.courses import CourseFilingForm
from forms.courses import InvoiceForm
from forms.courses import InvoiceNumberForm
from forms.courses import PaymentForm
from forms.courses import RetireForm
from forms.ids import parse_id
from infra import keyset
from services import courses as course_service
from services import scores as score_service
from webapp.extensions import db
from webapp.extensions import file_store
from webapp.extensions import now
from webapp.extensions import runtime
from webapp.messages import explain
from webapp.workplace import uses

blueprint = Blueprint("courses", __name__, url_prefix="/courses")

STATUSES = {
    CourseStatus.APPROVED: _l("Filed (approved)"),
    CourseStatus.PENDING: _l("Under review"),
    CourseStatus.REJECTED: _l("Rejected"),
    CourseStatus.WITHDRAWN: _l("Withdrawn"),
    CourseStatus.SUPERSEDED: _l("Superseded by a change"),
    CourseStatus.RETIRED: _l("Out of the catalogue"),
}
SUBMISSION_STATES = {
    "pending": _l("With the HRSS"),
    "credited": _l("Approved and credited"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "superseded": _l("Replaced by a corrected file"),
    "refused": _l("Refused: wrong rows"),
}
PAYMENT_STATES = {
    "unpaid": _l("Unpaid"),
    "transfer_confirmed": _l("Paid by bank transfer (confirmed)"),
    "online_confirmed": _l("Paid online (confirmed)"),
}
FILTERS = ("q", "year", "subject", "industry", "mode", "filer_id", "region", "status")
REFUSED = (CourseRefused, EnrolmentRefused, TextRefused)


def _labels() -> dict:
    return {
        "statuses": STATUSES,
        "subjects": SUBJECT_LABELS,
        "modes": MODE_LABELS,
        "payment_states": PAYMENT_STATES,
    }


def _may_file() -> bool:
    return "file_course" in uses()  # the engine's permission function decides, as for the menu


def _is_employer_hr() -> bool:
    return "enrol_persons" in uses()


@blueprint.route("/")
@login_required
def index():
    filters = {name: request.args.get(name, "").strip() or None for name in FILTERS}
    year = filters["year"]
    if year is not None and not (year.isdigit() and 2000 <= int(year) <= 2100):
        abort(400)
    filer_id = parse_id(filters["filer_id"]) if filters["filer_id"] else None
    if filters["filer_id"] and filer_id is None:
        abort(400)
    try:
        page = catalogue.search_courses(
            db.session,
            current_user.actor,
            **{**filters, "year": int(year) if year else None, "filer_id": filer_id},
            after=request.args.get("after"),
        )
    except keyset.BadCursor:
        abort(400)
    regions = directory.visible_regions(db.session, current_user.actor)
    this_year = china_day(now()).year
    return render_template(
        "courses.html",
        page=page,
        filters=filters,
        regions=regions,
        filers=catalogue.catalogue_filers(db.session, current_user.actor),
        years=range(this_year + 1, this_year - 4, -1),
        may_file=_may_file(),
        **_labels(),
    )


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
def new():
    actor = current_user.actor
    if not _may_file():
        abort(403)
    supersedes = parse_id(request.values.get("supersedes", "")) if request.values.get("supersedes") else None
    form = CourseFilingForm()
    if request.method == "GET":
        form.year.data = china_day(now()).year
        if supersedes:
            _prefill(form, actor, supersedes)
    if form.validate_on_submit():
        application = CourseApplication(
            title=form.title.data,
            subject=form.course_subject.data,
            hours=form.hours.data,
            mode=form.mode.data,
            year=form.year.data,
            fee_cents=fee_cents(form.fee.data),
            industry=form.industry.data,
            description=form.description.data,
        )
        try:
            course_service.file_course(runtime(), actor, application, supersedes)
        except REFUSED as refused:
            flash(explain(refused), "error")
        else:
            flash(_("The course was filed with the HRSS. You can follow it in the catalogue."), "success")
            return redirect(url_for("courses.index", status="pending"))
    return render_template("course_new.html", form=form, supersedes=supersedes)


def _prefill(form: CourseFilingForm, actor, course_id: int) -> None:
    try:
        course = catalogue.visible_course(db.session, actor, course_id)
    except NotVisible:
        abort(404)
    form.title.data, form.course_subject.data, form.industry.data = (
        course.title,
        course.subject,
        course.industry,
    )
    form.hours.data, form.mode.data, form.fee.data = course.hours, course.mode, course.fee_cents / 100


@blueprint.route("/<id:course_id>")
@login_required
def show(course_id: int):
    actor = current_user.actor
    try:
        course = catalogue.visible_course(db.session, actor, course_id)
    except NotVisible:
        abort(404)
    mine = course.filer_id == actor.organisation_id
    enrolments = enrolments_of_course(db.session, actor, course_id) if (mine or actor.is_admin) else []
    own = own_enrolments(db.session, actor, course_id)
    submissions = _submissions(course_id) if mine else []
    open_for_enrolment = course.status == CourseStatus.APPROVED and course.year >= china_day(now()).year
    enrolled_self = actor.person_id is not None and bool(own)
    return render_template(
        "course.html",
        course=course,
        mine=mine,
        enrolments=enrolments,
        own=own,
        submissions=submissions,
        may_submit_scores=mine
        and course.status in (CourseStatus.APPROVED, CourseStatus.RETIRED)
        and "file_course" in uses(),
        submission_states=SUBMISSION_STATES,
        invoice_form=InvoiceForm(),
        may_enrol=actor.person_id is not None and open_for_enrolment and not enrolled_self,
        may_enrol_persons=_is_employer_hr() and open_for_enrolment,
        may_retire=may_retire(db.session, actor, course.filer_id, course.region_code, course.status),
        may_change=mine and course.status == CourseStatus.APPROVED and _may_file(),
        form=FlaskForm(),
        retire_form=RetireForm(),
        payment_form=PaymentForm(),
        invoice_number_form=InvoiceNumberForm(),
        **_labels(),
    )


def _submissions(course_id: int) -> list:
    """The course's score submissions, each returned one with the institution's open step to answer."""
    instances = select(ScoreSubmission.instance_id).where(ScoreSubmission.course_id == course_id)
    steps = db.session.execute(
        select(HumanTask.instance_id, HumanTask.id).where(
            HumanTask.instance_id.in_(instances.scalar_subquery()),
            HumanTask.spec_name == "submit",
            HumanTask.state == "open",
        )
    )
    return submissions_of_course(db.session, course_id, dict(steps.all()))


def _score_file():
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return None, None
    return sent.filename, sent.stream.read(current_app.config["ATTACHMENT_MAX_BYTES"] + 1)


def _worded(code: str, params: dict) -> str:
    return explain(CodedError(code, **params))


@blueprint.route("/<id:course_id>/scores", methods=["POST"])
@login_required
def submit_scores(course_id: int):
    """The institution uploads a course's scores: accepted whole for the HRSS, or refused with a report."""
    return _take_scores(course_id, None)


@blueprint.route("/<id:course_id>/scores/<id:task_id>/correct", methods=["POST"])
@login_required
def correct_scores(course_id: int, task_id: int):
    """The institution answers a returned submission with a corrected file."""
    return _take_scores(course_id, task_id)


def _take_scores(course_id: int, task_id: int | None):
    if not FlaskForm().validate_on_submit():
        abort(400)
    name, data = _score_file()
    if data is None:
        flash(_("Choose the score file (xlsx or csv) to upload."), "error")
        return redirect(url_for("courses.show", course_id=course_id, _anchor="scores"))
    actor = current_user.actor
    try:
        if task_id is None:
            taken = score_service.submit_score_file(
                runtime(), actor, course_id, name, data, file_store(), _worded
            )
        else:
            taken = score_service.resubmit_score_file(
                runtime(), actor, task_id, name, data, file_store(), _worded
            )
    except RowsRefused as refused:
        flash(
            _(
                "%(count)d rows are wrong, so the whole file was not taken and nothing was credited. "
                "Download the error report below, correct the rows and upload the file again.",
                count=len(refused.problems),
            ),
            "error",
        )
    except (ScoreRefused, ScoreFileRefused, NotAllowed, TaskNotFound) as refused:
        flash(explain(refused), "error")
    else:
        flash(
            _(
                "The file was taken: %(rows)d rows go to the HRSS for review "
                "(%(skipped)d were credited before).",
                rows=taken.rows,
                skipped=taken.skipped,
            ),
            "success",
        )
    return redirect(url_for("courses.show", course_id=course_id, _anchor="scores"))


@blueprint.route("/<id:course_id>/scores/<id:submission_id>/report.xlsx")
@login_required
def score_report(course_id: int, submission_id: int):
    """The error report of a refused score file, for the institution that uploaded it."""
    actor = current_user.actor
    try:
        course = catalogue.visible_course(db.session, actor, course_id)
    except NotVisible:
        abort(404)
    key = report_key_of(db.session, course_id, submission_id)
    if key is None or (course.filer_id != actor.organisation_id and not actor.is_admin):
        abort(404)
    try:
        data = file_store().read(db.session, key)
    except FileNotStored:
        abort(404)
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX,
        as_attachment=True,
        download_name=f"成绩文件错误报告-{submission_id}.xlsx",
        max_age=0,
    )


def _act(course_id: int, action, success: str):
    try:
        action()
    except REFUSED as refused:
        flash(explain(refused), "error")
    else:
        flash(success, "success")
    return redirect(url_for("courses.show", course_id=course_id))


@blueprint.route("/<id:course_id>/enrol", methods=["POST"])
@login_required
def enrol(course_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    return _act(
        course_id,
        lambda: course_service.enrol(runtime(), current_user.actor, course_id),
        _("You are enrolled. Pay the fee as the institution tells you; it confirms the payment here."),
    )


@blueprint.route("/<id:course_id>/retire", methods=["POST"])
@login_required
def retire(course_id: int):
    form = RetireForm()
    if not form.validate_on_submit():
        flash(_("Say why the course leaves the catalogue, and confirm."), "error")
        return redirect(url_for("courses.show", course_id=course_id))
    return _act(
        course_id,
        lambda: course_service.retire_course(runtime(), current_user.actor, course_id, form.reason.data),
        _("The course is out of the catalogue. The hours it gave stay credited."),
    )


def _chosen_enrolments() -> list[int]:
    ids = [parse_id(value) for value in request.form.getlist("enrolment")]
    return [i for i in ids if i is not None]


@blueprint.route("/<id:course_id>/payments", methods=["POST"])
@login_required
def confirm_payments(course_id: int):
    form = PaymentForm()
    chosen = _chosen_enrolments()
    if not form.validate_on_submit() or not chosen:
        flash(_("Choose the enrolments whose fees arrived, and how they were paid."), "error")
        return redirect(url_for("courses.show", course_id=course_id))
    return _act(
        course_id,
        lambda: course_service.confirm_payment(runtime(), current_user.actor, chosen, form.method.data),
        _("Payment confirmed."),
    )


@blueprint.route("/<id:course_id>/invoices", methods=["POST"])
@login_required
def record_invoices(course_id: int):
    form = InvoiceNumberForm()
    chosen = _chosen_enrolments()
    if not form.validate_on_submit() or not chosen:
        flash(_("Choose the enrolments and type the invoice number."), "error")
        return redirect(url_for("courses.show", course_id=course_id))
    return _act(
        course_id,
        lambda: course_service.record_invoice(runtime(), current_user.actor, chosen, form.number.data),
        _("Invoice number recorded."),
    )


@blueprint.route("/<id:course_id>/enrol-persons", methods=["GET", "POST"])
@login_required
def enrol_persons(course_id: int):
    actor = current_user.actor
    if not _is_employer_hr():
        abort(403)
    try:
        course = catalogue.visible_course(db.session, actor, course_id)
    except NotVisible:
        abort(404)
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        chosen = [i for i in (parse_id(v) for v in request.form.getlist("person")) if i is not None]
        try:
            result = course_service.enrol_persons(runtime(), actor, course_id, chosen)
        except REFUSED as refused:
            flash(explain(refused), "error")
        else:
            flash(
                _(
                    "%(enrolled)d enrolled in one order; %(already)d were enrolled already.",
                    enrolled=len(result.enrolled),
                    already=len(result.already),
                ),
                "success",
            )
            return redirect(url_for("courses.show", course_id=course_id))
    q = request.args.get("q", "").strip() or None
    try:
        persons = person_directory.search_persons(
            db.session, actor, q=q, status="active", after=request.args.get("after"), limit=100
        )
    except keyset.BadCursor:
        abort(400)
    enrolled = enrolled_among(db.session, course_id, [p.id for p in persons.items])
    return render_template(
        "course_enrol_persons.html",
        course=course,
        persons=persons,
        enrolled=enrolled,
        q=q,
        form=FlaskForm(),
        title_levels=TITLE_LEVEL_LABELS,
    )


@blueprint.route("/enrolments/invoice", methods=["POST"])
@login_required
def request_invoice():
    form = InvoiceForm()
    chosen = _chosen_enrolments()
    course_id = parse_id(request.form.get("course_id", "")) or abort(400)
    if not form.validate_on_submit() or not chosen:
        flash(_("Type the invoice title."), "error")
        return redirect(url_for("courses.show", course_id=course_id))
    return _act(
        course_id,
        lambda: course_service.request_invoice(
            runtime(), current_user.actor, chosen, form.title.data, form.tax_id.data
        ),
        _("The invoice was requested from the institution."),
    )
