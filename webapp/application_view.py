"""The application on a task page and on the applicant's page: the fields a reviewer checks, and warnings.

A registration's fields come from its organisation or person record (domain.registration.review), so
the reviewer sees the credit code, authority, industry and unit admin, or the ID number and employer,
as they stand after each correction; other processes show their own data, labelled, in a fixed order.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from domain.organisations.records import Region
from domain.registration import review
from forms.choices import APPLICATION_KIND_LABELS
from forms.choices import TITLE_LEVEL_LABELS

# (data key, label); keys a process's data does not carry are left out
FIELDS = (
    ("name", _l("Name")),
    ("kind", _l("Type")),
    ("uscc", _l("Unified social credit code")),
    ("region_code", _l("Region")),
    ("title_level", _l("Title level")),
    ("title_series", _l("Title series")),
    ("expected_persons", _l("Professionals employed")),
    ("contact_name", _l("Contact")),
    ("contact_phone", _l("Phone")),
    ("subject", _l("Subject")),
    ("description", _l("Description")),
)
WARNINGS = {
    "same_name_in_region": _l(
        "Another organisation named %(name)s is already registered or applying in %(region)s (%(status)s): "
        "check that this is not the same one."
    ),
    "area_code_unknown": _l(
        "The ID number's area code %(area_code)s is not a known region code: check the number with the "
        "ID card."
    ),
    "area_code_not_at_birth": _l(
        "The ID number's area code %(area_code)s did not exist in the birth year %(year)s: the number "
        "may have been issued later, or it may be mistyped."
    ),
    "birth_year_implausible": _l(
        "The birth year %(year)s is implausible for a working professional: check the number with the "
        "ID card."
    ),
}
STATUS_WORDS = {
    "active": _l("registered"),
    "pending": _l("pending review"),
    "returned": _l("returned for correction"),
}
GENDERS = {"M": _l("Male"), "F": _l("Female")}


def application_rows(session: Session, data: dict) -> list[tuple[str, str]]:
    """Return (label, value) of the application: a registration's record, else the fields in its data."""
    if data.get("organisation_id"):
        facts = review.organisation_facts(session, int(data["organisation_id"]))
        if facts is not None:
            return organisation_rows(facts)
    if data.get("person_id"):
        facts = review.person_facts(session, int(data["person_id"]))
        if facts is not None:
            return person_rows(facts)
    return data_rows(session, data)


def organisation_rows(facts: review.OrganisationFacts) -> list[tuple[str, str]]:
    """Return an organisation application's fields as the HRSS checks them."""
    rows = [
        (_l("Organisation name"), facts.name),
        (_l("Type"), APPLICATION_KIND_LABELS.get(facts.kind, facts.kind)),
        (_l("Unified social credit code"), facts.credit_code or "—"),
        (_l("Region"), f"{facts.region_name}（{facts.region_code}）"),
        (_l("Industry authority"), facts.authority_name or "—"),
        (_l("Industry"), facts.industry or "—"),
        (_l("Professionals employed"), str(facts.expected_persons)),
        (_l("Unit admin"), f"{facts.admin_name or '—'}（{facts.admin_username or '—'}）"),
        (_l("Phone"), facts.contact_phone or "—"),
    ]
    return [(str(label), str(value)) for label, value in rows]


def person_rows(facts: review.PersonFacts) -> list[tuple[str, str]]:
    """Return a person's application fields as the employer's HR checks them."""
    rows = [
        (_l("Name"), facts.name),
        (_l("ID card number"), facts.id_number),
        (_l("Gender"), GENDERS.get(facts.gender, facts.gender)),
        (_l("Date of birth"), facts.birth_date.isoformat()),
        (_l("Employer"), facts.employer_name),
        (_l("Region"), f"{facts.region_name}（{facts.region_code}）"),
        (_l("Title level"), TITLE_LEVEL_LABELS.get(facts.title_level, facts.title_level)),
        (_l("Title series"), facts.title_series or "—"),
        (_l("Certificate number kept from 2013 or 2014"), facts.certificate_number or "—"),
    ]
    return [(str(label), str(value)) for label, value in rows]


def data_rows(session: Session, data: dict) -> list[tuple[str, str]]:
    """Return (label, value) of the application fields present in a process's data, values in words."""
    words = {
        "kind": {key: str(label) for key, label in APPLICATION_KIND_LABELS.items()},
        "title_level": {value: str(label) for value, label in TITLE_LEVEL_LABELS.items()},
    }
    rows = []
    for key, label in FIELDS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if key == "name" and "person_id" not in data:
            label = _l("Organisation name")
        if key == "region_code":
            region = session.get(Region, str(value))
            value = f"{region.name}（{value}）" if region else value
        rows.append((str(label), str(words.get(key, {}).get(value, value))))
    return rows


def application_warnings(session: Session, data: dict, today: date) -> list[str]:
    """Return, in the user's language, what in a registration looks wrong; warnings never block."""
    found: list[review.ReviewWarning] = []
    if data.get("organisation_id"):
        facts = review.organisation_facts(session, int(data["organisation_id"]))
        found = review.organisation_warnings(session, facts) if facts else []
    elif data.get("person_id"):
        facts = review.person_facts(session, int(data["person_id"]))
        found = review.person_warnings(facts, today) if facts else []
    return [_worded(warning) for warning in found]


def _worded(warning: review.ReviewWarning) -> str:
    params = dict(warning.params)
    if "status" in params:
        params["status"] = str(STATUS_WORDS.get(params["status"], params["status"]))
    return str(WARNINGS[warning.code] % params)
