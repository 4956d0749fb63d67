"""The notice centre page: my notices and my groups' notices, newest first, and marking one read."""

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from domain.notices import centre as notice_centre
from services.notices import mark_notice_read
from webapp.extensions import db

blueprint = Blueprint("notices", __name__, url_prefix="/notices")


@blueprint.app_context_processor
def unread_badge() -> dict:
    """Let every page ask for the signed-in user's unread count (queried only when a page shows it)."""

    def unread_notice_count() -> int:
        if not current_user.is_authenticated:
            return 0
        return notice_centre.unread_count(db.session, current_user.actor)

    return {"unread_notice_count": unread_notice_count}


@blueprint.route("")
@login_required
def index():
    after = request.args.get("after", type=int)
    page = notice_centre.notices_for(db.session, current_user.actor, after=after)
    return render_template("notices.html", page=page)


@blueprint.route("/<int:notice_id>/read", methods=["POST"])
@login_required
def read(notice_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        mark_notice_read(current_app.extensions["ceflow.runtime"], current_user.actor, notice_id)
    except notice_centre.NoticeNotFound:
        abort(404)
    return redirect(url_for("notices.index", after=request.args.get("after", type=int)))
