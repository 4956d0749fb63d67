"""What a reviewer checks in a registration (R2): the application's facts from the records, and warnings.

The task page reads the facts from the organisation or person record, not from the process data,
so it shows the credit code, authority, industry and unit admin (or the ID number and employer)
as they stand after every correction. Warnings point at data that looks wrong (a second
organisation of the same name in the same region, an ID number whose area code did not exist in
the birth year, an implausible birth year); they inform and never block a decision.
"""

from dataclasses import dataclass
from dataclasses import field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.users import User
from domain.identity import review_warnings
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import Region
from domain.persons.records import Person

# organisations that hold or claim a name in their region: a newcomer of the same name is suspicious
_HOLDING_A_NAME = (OrganisationStatus.ACTIVE, OrganisationStatus.PENDING, OrganisationStatus.RETURNED)


@dataclass(frozen=True)
class ReviewWarning:
    """Something a reviewer should look at twice: a code and the values its message names."""

    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OrganisationFacts:
    """An organisation's application as the HRSS reviews it (R1, R2)."""

    id: int
    kind: str
    name: str
    status: str
    credit_code: str | None
    region_code: str
    region_name: str
    authority_id: int | None
    authority_name: str | None
    industry: str | None
    admin_name: str | None
    admin_username: str | None
    contact_phone: str | None
    expected_persons: int


@dataclass(frozen=True)
class PersonFacts:
    """A person's application as the employer's HR reviews it (R2, R18)."""

    id: int
    name: str
    status: str
    id_number: str
    gender: str
    birth_date: date
    employer_id: int
    employer_name: str
    region_code: str
    region_name: str
    title_level: str
    title_series: str
    certificate_number: str | None


def organisation_facts(session: Session, organisation_id: int) -> OrganisationFacts | None:
    """Return an organisation's application facts, or None when there is no such organisation."""
    org = session.get(Organisation, organisation_id)
    if org is None:
        return None
    region = session.get(Region, org.region_code)
    authority = session.get(Organisation, org.authority_id) if org.authority_id else None
    admin = session.get(User, org.admin_user_id) if org.admin_user_id else None
    return OrganisationFacts(
        id=org.id,
        kind=org.kind,
        name=org.name,
        status=org.status,
        credit_code=org.uscc,
        region_code=org.region_code,
        region_name=region.name if region else org.region_code,
        authority_id=org.authority_id,
        authority_name=authority.name if authority else None,
        industry=org.industry,
        admin_name=admin.display_name if admin else org.contact_name,
        admin_username=admin.username if admin else None,
        contact_phone=org.contact_phone,
        expected_persons=org.expected_persons or 0,
    )


def organisation_warnings(session: Session, facts: OrganisationFacts) -> list[ReviewWarning]:
    """Warn when another organisation of the same name is registered or pending in the same region."""
    others = session.execute(
        select(Organisation.name, Organisation.status)
        .where(
            Organisation.region_code == facts.region_code,
            Organisation.name == facts.name,
            Organisation.id != facts.id,
            Organisation.status.in_(_HOLDING_A_NAME),
        )
        .order_by(Organisation.id)
    ).all()
    return [
        ReviewWarning("same_name_in_region", {"name": name, "region": facts.region_name, "status": status})
        for name, status in others
    ]


def person_facts(session: Session, person_id: int) -> PersonFacts | None:
    """Return a person's application facts, or None when there is no such person."""
    person = session.get(Person, person_id)
    if person is None:
        return None
    employer = session.get(Organisation, person.employer_id)
    region = session.get(Region, person.region_code)
    return PersonFacts(
        id=person.id,
        name=person.name,
        status=person.status,
        id_number=person.id_number,
        gender=person.gender,
        birth_date=person.birth_date,
        employer_id=person.employer_id,
        employer_name=employer.name if employer else str(person.employer_id),
        region_code=person.region_code,
        region_name=region.name if region else person.region_code,
        title_level=person.title_level,
        title_series=person.title_series or "",
        certificate_number=person.certificate_number,
    )


def person_warnings(facts: PersonFacts, today: date) -> list[ReviewWarning]:
    """Warn about an ID number whose area code or birth year looks wrong (R18: the area is only a warning)."""
    params = {"area_code": facts.id_number[:6], "year": facts.birth_date.year}
    return [ReviewWarning(code, params) for code in review_warnings(facts.id_number, today)]
