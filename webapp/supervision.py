"""Supervision notices (督导通报): the list by period and office, paged; a notice as a document; its Excel."""

from io import BytesIO

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import send_file
from flask_login import current_user
from flask_login import login_required

from domain.organisations.jurisdiction import NotVisible
from domain.supervision.documents import KIND_LABELS
from domain.supervision.documents import STATUS_LABELS
from domain.supervision.documents import XLSX
from domain.supervision.documents import as_of
from domain.supervision.documents import issue_label
from domain.supervision.documents import issued_on
from domain.supervision.documents import notice_totals
from domain.supervision.documents import supervision_workbook
from domain.supervision.documents import workbook_name
from domain.supervision.reports import PERIOD
from domain.supervision.reports import notice_filter_choices
from domain.supervision.reports import search_supervision_notices
from domain.supervision.reports import supervision_notice
from forms.ids import parse_id
from infra import keyset
from webapp.directory import page_position
from webapp.extensions import db

blueprint = Blueprint("supervision", __name__, url_prefix="/supervision")
PAGE_SIZE = 20


@blueprint.route("/")
@login_required
def index():
    period = request.args.get("period", "").strip() or None
    office = request.args.get("office", "").strip() or None
    office_id = parse_id(office) if office else None
    if (period and not PERIOD.fullmatch(period)) or (office and office_id is None):
        abort(400)
    try:
        page = search_supervision_notices(
            db.session,
            current_user.actor,
            period=period,
            office_id=office_id,
            after=request.args.get("after"),
            before=request.args.get("before"),
            limit=PAGE_SIZE,
        )
    except keyset.BadCursor:
        abort(400)
    filters = {"period": period, "office": office_id}
    periods, offices = notice_filter_choices(db.session, current_user.actor)
    return render_template(
        "supervision.html",
        page=page,
        position=page_position(page, {}, PAGE_SIZE),
        filters=filters,
        periods=periods,
        offices=offices,
        issue_label=issue_label,
    )


def _notice(notice_id: int):
    try:
        return supervision_notice(db.session, current_user.actor, notice_id)
    except NotVisible:
        abort(404)


@blueprint.route("/<id:notice_id>")
@login_required
def show(notice_id: int):
    notice = _notice(notice_id)
    return render_template(
        "supervision_notice.html",
        notice=notice,
        issue=issue_label(notice.period),
        issued_on=issued_on(notice),
        as_of=as_of(notice),
        totals=notice_totals(notice),
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
    )


@blueprint.route("/<id:notice_id>.xlsx")
@login_required
def download(notice_id: int):
    notice = _notice(notice_id)
    return send_file(  # Werkzeug writes the Chinese name as RFC 5987 filename*, with an ASCII fallback
        BytesIO(supervision_workbook(notice, notice.office)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=workbook_name(notice, notice.office),
    )
