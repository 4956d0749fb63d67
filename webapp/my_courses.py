"""The person's own courses (我的课程) and pass certificates (我的证明): the list and the PDF download."""

import io

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import send_file
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from domain.courses.enrolment import enrolments_of_person
from domain.courses.pass_certificate import CertificateNotFound
from services.courses import pass_certificate_pdf
from webapp.extensions import db
from webapp.extensions import file_store
from webapp.extensions import runtime

blueprint = Blueprint("my_courses", __name__, url_prefix="/my")


def verify_url(code: str) -> str:
    """Return the public address of a certificate's verify page, as its QR code prints it."""
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    if public:
        return public + url_for("verify.certificate", code=code)
    return url_for("verify.certificate", code=code, _external=True)


@blueprint.route("/courses")
@login_required
def index():
    actor = current_user.actor
    if actor.person_id is None:  # the page is a professional's own; no one else has one
        abort(404)
    return render_template("my_courses.html", rows=enrolments_of_person(db.session, actor))


@blueprint.route("/courses/<id:enrolment_id>/certificate.pdf")
@login_required
def certificate(enrolment_id: int):
    """Send the person's pass certificate, issued on the first download and the same ever after."""
    try:
        code, pdf = pass_certificate_pdf(
            runtime(), current_user.actor, enrolment_id, file_store(), verify_url
        )
    except CertificateNotFound:
        abort(404)
    response = send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"pass-certificate-{code}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
