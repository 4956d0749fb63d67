"""Deployed processes: the list, and starting one where the diagram's start rule lets the user's role."""

from flask import Blueprint
from flask import flash
from flask import g
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm

from engine.errors import EngineError
from engine.errors import NotAllowed
from engine.inbox import queries as inbox
from engine.runtime.definitions import list_definitions
from services.processes import start_process
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain
from webapp.workplace import uses

blueprint = Blueprint("processes", __name__, url_prefix="/processes")


@blueprint.route("/")
@login_required
def index():
    """List the processes: every one for an administrator, else those the user's role may start."""
    startable = g.get("startable", frozenset())
    definitions = [
        d for d in list_definitions(db.session) if "process_versions" in uses() or d.process_key in startable
    ]
    return render_template("processes.html", definitions=definitions, startable=startable, form=FlaskForm())


@blueprint.route("/<key>/start", methods=["POST"])
@login_required
def start(key: str):
    if not FlaskForm().validate_on_submit():
        flash(_("This process cannot be started here."), "error")
        return redirect(url_for("processes.index"))
    actor = current_user.actor
    try:
        instance_id = start_process(runtime(), key, actor)
    except NotAllowed:
        raise  # the role may not start it: the error page says so, with 403
    except EngineError as error:
        flash(explain(error), "error")
        return redirect(url_for("processes.index"))
    # the page's own reads (the menu) began a snapshot before the start committed on its connection
    db.session.rollback()
    first = inbox.my_tasks(db.session, actor, limit=50).items
    mine = [t for t in first if t.instance_id == instance_id]
    if mine:
        return redirect(url_for("inbox.task", task_id=mine[0].id))
    return redirect(url_for("inbox.my_tasks"))
