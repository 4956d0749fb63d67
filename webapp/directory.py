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
from domain.organisations import directory
from domain.organisations.jurisdiction import NotVisible
from domain.persons import directory as person_directory
from forms.choices import ORGANISATION_KIND_LABELS
from forms.choices import TITLE_LEVEL_LABELS
from forms.ids import parse_id
from infra import keyset
from webapp.extensions import db
from webapp.extensions import now

blueprint = Blueprint("directory", __name__)
api = Blueprint("directory_api", __name__, url_prefix="/api")

STATUSES = [
    ("active", _l("Active")),
    ("pending", _l("Pending review")),
    ("returned", _l("Returned for correction")),
    ("rejected", _l("Rejected")),
    ("withdrawn", _l("Withdrawn")),
    ("terminated", _l("Terminated")),
    ("inactive", _l("Inactive")),
]
ORGANISATION_FILTERS = ("q", "kind", "region", "status")
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


def _search(query, names: tuple[str, ...], limit: int = 50):
    filters = _filters(names)
    try:
        page = query(db.session, current_user.actor, **filters, after=request.args.get("after"), limit=limit)
    except keyset.BadCursor:
        abort(400)
    return filters, page


@blueprint.route("/organisations")
@login_required
def organisations():
    filters, page = _search(directory.search_organisations, ORGANISATION_FILTERS)
    regions = directory.visible_regions(db.session, current_user.actor)
    return render_template("organisations.html", page=page, filters=filters, regions=regions, **_labels())


@blueprint.route("/organisations/<id:org_id>")
@login_required
def organisation(org_id: int):
    try:
        detail = directory.organisation_detail(db.session, current_user.actor, org_id)
    except NotVisible:
        abort(404)
    locked = locked_accounts(db.session, current_user.actor, now(), organisation_id=org_id)
    return render_template("organisation.html", org=detail, locked=locked, **_labels())


@blueprint.route("/persons")
@login_required
def persons():
    filters, page = _search(person_directory.search_persons, PERSON_FILTERS)
    regions = directory.visible_regions(db.session, current_user.actor)
    return render_template("persons.html", page=page, filters=filters, regions=regions, **_labels())


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
    _, page = _search(directory.search_organisations, ORGANISATION_FILTERS, _limit())
    return jsonify(_page_json(page))


@api.route("/organisations/<id:org_id>")
def api_organisation(org_id: int):
    try:
        return jsonify(_json(directory.organisation_detail(db.session, current_user.actor, org_id)))
    except NotVisible:
        abort(404)


@api.route("/persons")
def api_persons():
    _, page = _search(person_directory.search_persons, PERSON_FILTERS, _limit())
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
        "status_counts": page.status_counts,
        "count_cap": page.count_cap,  # a count above it reads "more than count_cap"
    }
