"""The public verify page of pass certificates: anyone holding one (an employer, an HRSS) checks it.

No sign-in. It shows exactly what the certificate shows (the ID number masked, as printed) and no
more; an unknown code is a plain "not found". Rate-limited per address like the other public pages,
on top of codes too long to guess.
"""

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from domain.courses.certificate_document import chinese_date
from domain.courses.certificate_document import grouped_code
from domain.courses.certificate_document import subject_name
from domain.courses.pass_certificate import CertificateNotFound
from domain.courses.pass_certificate import certificate_by_code
from domain.courses.pass_certificate import normalised_code
from webapp.extensions import db
from webapp.rate_limits import public_page

blueprint = Blueprint("verify", __name__, url_prefix="/verify")


@blueprint.route("")
@public_page
def lookup():
    """The form to type a printed code in; a typed code goes to its page."""
    typed = request.args.get("code", "").strip()
    if typed:
        return redirect(url_for("verify.certificate", code=normalised_code(typed) or typed[:64]))
    return render_template("verify.html", content=None, typed="")


@blueprint.route("/<code>")
@public_page
def certificate(code: str):
    try:
        content = certificate_by_code(db.session, code)
    except CertificateNotFound:
        return render_template("verify.html", content=None, typed=code[:64], not_found=True), 404
    response = render_template(
        "verify.html",
        content=content,
        code=grouped_code(content.code),
        subject=subject_name(content.subject),
        completed_on=chinese_date(content.completed_on),
    )
    return response, 200, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
