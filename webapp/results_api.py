"""The results API: an institution's training platform posts its online-exam results with a bearer token.

No session and no CSRF token: the platform is a machine, known by the token its institution was given
(`ceflow institution-token <org id>`; only the token's hash is kept). The results take the score file's
path: the same checks, refused whole with every bad result named, then the approving HRSS's review.
"""

from flask import Blueprint
from flask import jsonify
from flask import request
from flask_babel import gettext as _

from domain.courses.score_files import RowsRefused
from domain.courses.score_files import ScoreFileRefused
from domain.courses.scores import ScoreRefused
from services import scores
from webapp.errors import json_error
from webapp.extensions import csrf
from webapp.extensions import runtime
from webapp.messages import explain

results_api = Blueprint("results_api", __name__, url_prefix="/api")
NOT_FOUND = ("score_course_not_found", "score_course_not_approved")


@results_api.record_once
def no_csrf_here(state) -> None:
    """A bearer token is not sent by a browser on its own, so it needs no CSRF token beside it."""
    csrf.exempt(results_api)


def _institution() -> int | None:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return scores.institution_of_token(runtime(), token.strip())


@results_api.route("/courses/<id:course_id>/results", methods=["POST"])
def post_results(course_id: int):
    institution_id = _institution()
    if institution_id is None:
        return json_error(401, "unauthorized", _("Send the institution's API token as a Bearer token."))
    body = request.get_json(silent=True)
    results = body.get("results") if isinstance(body, dict) else None
    try:
        accepted = scores.submit_results(runtime(), institution_id, course_id, results)
    except RowsRefused as refused:
        problems = [
            {"row": p.row, "column": p.column, "reason": p.code, "message": explain(p)}
            for p in refused.problems
        ]
        body = {
            "error": "RowsRefused",
            "message": explain(refused),
            "reason": refused.code,
            "problems": problems,
        }
        return jsonify(body), 422
    except (ScoreRefused, ScoreFileRefused) as refused:
        status = 404 if refused.code in NOT_FOUND else 409 if refused.code == "score_api_race" else 422
        return json_error(status, type(refused).__name__, explain(refused), refused.code)
    return jsonify(
        submission_id=accepted.submission_id,
        instance_id=accepted.instance_id,
        status=accepted.status,
        rows=accepted.rows,
        skipped=accepted.skipped,
    ), 202
