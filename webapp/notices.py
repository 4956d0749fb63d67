"""The notice centre page: my notices and my groups' notices, newest first, and marking one read."""

from flask import Blueprint
from flask import abort
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from domain.notices import centre as notice_centre
from infra import keyset
from services.notices import mark_notice_read
from webapp.extensions import db
from webapp.extensions import runtime

blueprint = Blueprint("notices", __name__, url_prefix="/notices")


JSON_BLUEPRINTS = ("inbox_api", "directory_api")  # their answers have no site layout, hence no badge


@blueprint.before_app_request
def count_unread() -> None:
    """Count the signed-in user's unread notices once per page, for the layout's badge (g.unread_notices).

    Templates run no queries: the layout reads the figure counted here.
    """
    if request.endpoint == "static" or request.blueprint in JSON_BLUEPRINTS:
        return
    if current_user.is_authenticated:
        g.unread_notices = notice_centre.unread_count(db.session, current_user.actor)


@blueprint.route("")
@login_required
def index():
    try:
        page = notice_centre.notices_for(db.session, current_user.actor, after=request.args.get("after"))
    except keyset.BadCursor:
        abort(400)
    return render_template("notices.html", page=page)


@blueprint.route("/<id:notice_id>/read", methods=["POST"])
@login_required
def read(notice_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        mark_notice_read(runtime(), current_user.actor, notice_id)
    except notice_centre.NoticeNotFound:
        abort(404)
    return redirect(url_for("notices.index", after=request.args.get("after")))
