"""Number ranges (号段, R5): the HRSS allocates ranges to its employers, watches their use, voids numbers.

The list shows the employers the user may see (R15) with their allocated, used and remaining numbers;
an employer's page shows its ranges and numbers, and to an HRSS the forms to allocate and to void.
An employer signing in goes straight to its own page. An employer outside the user's sight is a 404.
"""

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from domain.certificates.ranges import employer_numbers
from domain.certificates.ranges import employer_ranges
from domain.certificates.ranges import may_manage_ranges
from domain.certificates.ranges import usage_by_employer
from domain.certificates.ranges import visible_employer
from domain.certificates.records import CertificateError
from domain.certificates.records import format_number
from domain.organisations import directory
from domain.organisations.jurisdiction import NotVisible
from domain.organisations.records import OrganisationKind
from domain.text import TextRefused
from forms.certificates import AllocateRangeForm
from forms.certificates import VoidNumberForm
from services.certificates import allocate_number_range
from services.certificates import void_certificate_number
from webapp.directory import page_position
from webapp.directory import search_page
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.messages import explain

blueprint = Blueprint("ranges", __name__, url_prefix="/number-ranges")
FILTERS = ("q", "region")


@blueprint.route("")
@login_required
def index():
    actor = current_user.actor
    if actor.organisation_kind == OrganisationKind.EMPLOYER:
        return redirect(url_for("ranges.employer", employer_id=actor.organisation_id))
    filters, page = search_page(directory.search_organisations, FILTERS, kind=OrganisationKind.EMPLOYER)
    usage = usage_by_employer(db.session, [row.id for row in page.items])
    return render_template(
        "ranges.html",
        page=page,
        position=page_position(page, filters),
        filters=filters,
        usage=usage,
        regions=directory.visible_regions(db.session, actor),
        manages=may_manage_ranges(actor),
    )


@blueprint.route("/<id:employer_id>")
@login_required
def employer(employer_id: int):
    return _employer_page(employer_id, AllocateRangeForm(), VoidNumberForm(number=request.args.get("void")))


def _employer_page(employer_id: int, allocate: AllocateRangeForm, void: VoidNumberForm, status: int = 200):
    actor = current_user.actor
    try:
        org = visible_employer(db.session, actor, employer_id)
        ranges = employer_ranges(db.session, actor, employer_id)
        numbers = employer_numbers(db.session, actor, employer_id, q=request.args.get("q"))
    except NotVisible:
        abort(404)
    page = render_template(
        "range_employer.html",
        employer_id=employer_id,
        employer_name=org.name,
        ranges=ranges,
        numbers=numbers,
        totals={key: sum(getattr(r, key) for r in ranges) for key in ("size", "used", "left")},
        q=request.args.get("q", ""),
        manages=may_manage_ranges(actor),
        allocate=allocate,
        void=void,
    )
    return page, status


@blueprint.route("/<id:employer_id>/allocate", methods=["POST"])
@login_required
def allocate(employer_id: int):
    _managers_only()
    form = AllocateRangeForm()
    if form.validate_on_submit():
        try:
            prefix, first, last = allocate_number_range(
                runtime(), current_user.actor, employer_id, form.size.data
            )
        except NotVisible:
            abort(404)
        except CertificateError as refused:
            form.size.errors.append(explain(refused))
        else:
            first_number, last_number = format_number(prefix, first), format_number(prefix, last)
            flash(
                _("Allocated numbers %(first)s to %(last)s.", first=first_number, last=last_number), "success"
            )
            return redirect(url_for("ranges.employer", employer_id=employer_id))
    return _employer_page(employer_id, form, VoidNumberForm(formdata=None), status=422)


@blueprint.route("/<id:employer_id>/void", methods=["POST"])
@login_required
def void(employer_id: int):
    _managers_only()
    form = VoidNumberForm()
    if form.validate_on_submit():
        try:
            void_certificate_number(
                runtime(), current_user.actor, employer_id, form.number.data, form.reason.data
            )
        except NotVisible:
            abort(404)
        except (CertificateError, TextRefused) as refused:
            (form.reason if refused.code.startswith(("void_reason", "text_")) else form.number).errors.append(
                explain(refused)
            )
        else:
            flash(_("Certificate number %(number)s is void.", number=form.number.data.strip()), "success")
            return redirect(url_for("ranges.employer", employer_id=employer_id))
    return _employer_page(employer_id, AllocateRangeForm(formdata=None), form, status=422)


def _managers_only() -> None:
    """Answer 403 to a user who may see ranges but not change them (an employer, an authority)."""
    if not may_manage_ranges(current_user.actor):
        abort(403)
