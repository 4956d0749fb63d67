"""Deployed processes: the list, and starting one."""

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from engine.errors import EngineError
from engine.inbox import queries as inbox
from engine.runtime.definitions import list_definitions
from services.processes import start_process
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain

blueprint = Blueprint("processes", __name__, url_prefix="/processes")
STARTABLE = ("demo_approval",)


@blueprint.route("/")
@login_required
def index():
    definitions = [d for d in list_definitions(db.session)]
    return render_template("processes.html", definitions=definitions, startable=STARTABLE, form=FlaskForm())


@blueprint.route("/<key>/start", methods=["POST"])
@login_required
def start(key: str):
    if key not in STARTABLE or not FlaskForm().validate_on_submit():
        flash(_("This process cannot be started here."), "error")
        return redirect(url_for("processes.index"))
    actor = current_user.actor
    try:
        instance_id = start_process(runtime(), key, actor)
    except EngineError as error:
        flash(explain(error), "error")
        return redirect(url_for("processes.index"))
    first = inbox.my_tasks(db.session, actor, limit=50).items
    mine = [t for t in first if t.instance_id == instance_id]
    if mine:
        return redirect(url_for("inbox.task", task_id=mine[0].id))
    return redirect(url_for("inbox.my_tasks"))
