"""The directory: organisations and persons within the user's jurisdiction (R15), as pages and as JSON."""

from dataclasses import asdict
from datetime import date

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import render_template
from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required

from domain.accounts.unit_admin import locked_accounts
from domain.accounts.unit_admin import may_hand_over
from domain.certificates.ranges import may_manage_ranges
from domain.organisations import directory
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.records import OrganisationKind
from domain.persons import directory as person_directory
from engine.inbox.queries import instances_about
from engine.tasks.permissions import permissions_for
from forms.choices import ORGANISATION_KIND_LABELS
from forms.choices import TITLE_LEVEL_LABELS
from forms.ids import parse_id
from infra import keyset
from webapp.extensions import db
from webapp.extensions import now
from webapp.inbox import list_labels
from webapp.messages import ACTIONS

blueprint = Blueprint("directory", __name__)
api = Blueprint("directory_api", __name__, url_prefix="/api")

STATUSES = [
    ("active", _l("Active")),
    ("pending", _l("Pending review")),
    ("returned", _l("Returned for correction")),
    ("rejected", _l("Rejected")),
    ("withdrawn", _l("Withdrawn")),
    ("inactive", _l("Inactive")),
]
ORGANISATION_FILTERS = ("q", "kind", "region", "status")
PAGE_SIZE = 50
# the actions an organisation's page names for an open step of its registration (the task page has all)
SHOWN_ACTIONS = ("claim", "approve", "return", "reject", "urge", "withdraw", "reassign", "terminate")
PERSON_FILTERS = ("q", "employer_id", "region", "title_level", "status")


def _filters(names: tuple[str, ...]) -> dict:
    """Read the list filters from the query string; an empty box is no filter."""
    found = {name: request.args.get(name, "").strip() or None for name in names}
    if found.get("employer_id") is not None:
        found["employer_id"] = parse_id(found["employer_id"])
        if found["employer_id"] is None:
            abort(400)
    return found


def _labels() -> dict:
    return {"kinds": ORGANISATION_KIND_LABELS, "statuses": dict(STATUSES), "title_levels": TITLE_LEVEL_LABELS}


def search_page(query, names: tuple[str, ...], limit: int = PAGE_SIZE, **fixed):
    """Return the filters of the query string and the page of a directory query they, and `fixed`, select."""
    filters = _filters(names)
    after, before = request.args.get("after"), request.args.get("before")
    try:
        page = query(
            db.session, current_user.actor, **filters, **fixed, after=after, before=before, limit=limit
        )
    except keyset.BadCursor:
        abort(400)
    return filters, page


def page_position(page: keyset.Page, filters: dict, limit: int = PAGE_SIZE) -> keyset.Position:
    """Return where the page lies in its list, from the `start` its links carry (keyset has no offset)."""
    return keyset.position_of(page, request.args.get("start", 0, type=int), limit, filters.get("status"))


@blueprint.route("/organisations")
@login_required
def organisations():
    filters, page = search_page(directory.search_organisations, ORGANISATION_FILTERS)
    regions = directory.visible_regions(db.session, current_user.actor)
    return render_template(
        "organisations.html",
        page=page,
        position=page_position(page, filters),
        filters=filters,
        regions=regions,
        **_labels(),
    )


@blueprint.route("/organisations/<id:org_id>")
@login_required
def organisation(org_id: int):
    actor = current_user.actor
    try:
        detail = directory.organisation_detail(db.session, actor, org_id)
    except NotVisible:
        abort(404)
    persons, position, filters = None, None, {}
    if detail.kind == OrganisationKind.EMPLOYER:
        filters, persons = search_page(person_directory.search_persons, ("status",), employer_id=org_id)
        position = page_position(persons, filters)
    registrations = instances_about(db.session, f"organisation_id:{org_id}")
    steps = [step.task_id for item in registrations for step in item.steps]
    return render_template(
        "organisation.html",
        org=detail,
        locked=locked_accounts(db.session, actor, now(), organisation_id=org_id),
        persons=persons,
        position=position,
        person_args=dict(filters, org_id=org_id),
        registrations=registrations,
        step_permissions=permissions_for(db.session, actor, steps, now()),
        may_hand_over=may_hand_over(actor, detail.admin_user_id),
        may_manage_ranges=may_manage_ranges(actor),
        actions_order=SHOWN_ACTIONS,
        action_words=ACTIONS,
        **_labels(),
        **list_labels(),
    )


@blueprint.route("/persons")
@login_required
def persons():
    filters, page = search_page(person_directory.search_persons, PERSON_FILTERS)
    regions = directory.visible_regions(db.session, current_user.actor)
    return render_template(
        "persons.html",
        page=page,
        position=page_position(page, filters),
        filters=filters,
        regions=regions,
        **_labels(),
    )


@blueprint.route("/persons/<id:person_id>")
@login_required
def person(person_id: int):
    try:
        detail = person_directory.person_detail(db.session, current_user.actor, person_id)
    except NotVisible:
        abort(404)
    locked = locked_accounts(db.session, current_user.actor, now(), person_id=person_id)
    return render_template("person.html", person=detail, locked=locked, **_labels())


@api.before_request
def signed_in_only():
    """Answer a request without a session with a JSON 401, not a redirect to the sign-in page."""
    if not current_user.is_authenticated:
        return jsonify(error="unauthorized", message="sign in first"), 401
    return None


@api.errorhandler(400)
def bad_request(_error):
    return jsonify(error="bad_request", message="a filter or the cursor is malformed"), 400


@api.errorhandler(404)
def not_found(_error):
    return jsonify(error="not_found", message="no such record within your jurisdiction"), 404


@api.route("/organisations")
def api_organisations():
    _, page = search_page(directory.search_organisations, ORGANISATION_FILTERS, _limit())
    return jsonify(_page_json(page))


@api.route("/organisations/<id:org_id>")
def api_organisation(org_id: int):
    try:
        return jsonify(_json(directory.organisation_detail(db.session, current_user.actor, org_id)))
    except NotVisible:
        abort(404)


@api.route("/persons")
def api_persons():
    _, page = search_page(person_directory.search_persons, PERSON_FILTERS, _limit())
    return jsonify(_page_json(page))


@api.route("/persons/<id:person_id>")
def api_person(person_id: int):
    try:
        return jsonify(_json(person_directory.person_detail(db.session, current_user.actor, person_id)))
    except NotVisible:
        abort(404)


def _limit() -> int:
    limit = request.args.get("limit", 50, type=int)
    if not 1 <= limit <= keyset.MAX_LIMIT:
        abort(400)
    return limit


def _json(row) -> dict:
    """Return a row as JSON-ready values, dates in ISO 8601."""
    return {
        key: value.isoformat() if isinstance(value, date) else value for key, value in asdict(row).items()
    }


def _page_json(page: keyset.Page) -> dict:
    return {
        "items": [_json(item) for item in page.items],
        "next_after": page.next_cursor,
        "previous_before": page.previous_cursor,
        "status_counts": page.status_counts,
        "count_cap": page.count_cap,  # a count above it reads "more than count_cap"
    }
