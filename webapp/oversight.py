"""The administrator's list of every open task in their jurisdiction, with 改派 (reassign) and 终止.

The list reads engine.inbox.oversight; reassigning and terminating post to the task actions
(webapp.tasks_page), which run the tasks service and come back to the list.
"""

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from domain.organisations.directory import visible_regions
from engine.errors import TaskNotFound
from engine.inbox import oversight
from engine.inbox import queries as inbox
from engine.inbox.list_query import BadQuery
from engine.runtime.definitions import list_definitions
from engine.tasks import permissions
from engine.tasks.approvers import reassign_choices
from webapp.extensions import db
from webapp.extensions import now
from webapp.inbox import list_labels
from webapp.inbox import safe_list_back
from webapp.messages import explain_reason
from webapp.workplace import uses

blueprint = Blueprint("oversight", __name__, url_prefix="/oversight")


def _require_oversight() -> None:
    if "oversight" not in uses():
        abort(404)


@blueprint.route("")
@login_required
def index():
    _require_oversight()
    try:
        query = oversight.parse_oversight(request.args)
    except BadQuery:
        abort(400)
    actor = current_user.actor
    page = oversight.open_tasks(db.session, actor, query, now())
    regions = visible_regions(db.session, actor)
    return render_template(
        "oversight.html",
        query=query,
        page=page,
        processes=list_definitions(db.session),
        regions=regions,
        region_names={region.code: region.name for region in regions},
        due_status=inbox.due_status,
        now=now(),
        back=request.full_path.rstrip("?"),
        **list_labels(),
    )


@blueprint.route("/tasks/<id:task_id>/<any(reassign, terminate):action>")
@login_required
def confirm(task_id: int, action: str):
    """Ask for the reassignment's new holder and reason, or confirm a termination with its reason."""
    _require_oversight()
    actor = current_user.actor
    try:
        perms = permissions.task_permissions(db.session, actor, task_id, now())
        item = inbox.task_item(db.session, actor, task_id)
    except TaskNotFound:
        abort(404)
    return render_template(
        "oversight_confirm.html",
        action=action,
        item=item,
        refused=explain_reason(reason, action=action) if (reason := perms.reason(action)) else None,
        choices=reassign_choices(db.session, task_id) if action == "reassign" else [],
        back=safe_list_back(request.args.get("back")) or url_for("oversight.index"),
    )
