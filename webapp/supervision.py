"""Supervision notices (督导通报): the list, one notice, and its Excel download."""

from flask import Blueprint
from flask import Response
from flask import abort
from flask import render_template
from flask_login import current_user
from flask_login import login_required

from domain.organisations.jurisdiction import NotVisible
from domain.supervision.documents import XLSX
from domain.supervision.documents import notice_text
from domain.supervision.documents import supervision_workbook
from domain.supervision.reports import supervision_notice
from domain.supervision.reports import supervision_notices_for
from webapp.extensions import db

blueprint = Blueprint("supervision", __name__, url_prefix="/supervision")


@blueprint.route("/")
@login_required
def index():
    notices = supervision_notices_for(db.session, current_user.actor)
    return render_template("supervision.html", notices=notices)


@blueprint.route("/<id:notice_id>")
@login_required
def show(notice_id: int):
    try:
        notice = supervision_notice(db.session, current_user.actor, notice_id)
    except NotVisible:
        abort(404)
    return render_template("supervision_notice.html", notice=notice, text=notice_text(notice))


@blueprint.route("/<id:notice_id>.xlsx")
@login_required
def download(notice_id: int):
    try:
        notice = supervision_notice(db.session, current_user.actor, notice_id)
    except NotVisible:
        abort(404)
    filename = f"supervision-{notice.period}-{notice.hrss_id}.xlsx"
    return Response(
        supervision_workbook(notice),
        mimetype=XLSX,
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
