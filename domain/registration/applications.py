"""Registration applications (R1, R2, R18): open them, keep them current, activate or close them."""

from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.opening import UsernameTaken
from domain.accounts.opening import open_account
from domain.accounts.users import User
from domain.calendar.deadlines import china_day
from domain.certificates.numbers import KEPT_YEARS
from domain.certificates.numbers import keep_existing_number
from domain.certificates.records import NumberInUse
from domain.identity import parse_credit_code
from domain.identity import parse_id_number
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import Region
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions
from domain.persons.records import Person
from domain.persons.records import PersonStatus
from domain.persons.records import TitleLevel
from domain.refusals import Refusal
from domain.text import clean_text

ROLES = {
    OrganisationKind.HRSS: "admin,reviewer,approver",
    OrganisationKind.AUTHORITY: "admin,reviewer",
    OrganisationKind.EMPLOYER: "admin,hr",
    OrganisationKind.INSTITUTION: "admin",
}
LOWER_LEVEL = {"province": "city", "city": "county"}


class RegistrationRefused(Refusal):
    """An application that cannot be accepted; `code` and `params` say why."""


class ApplicationNotActive(Exception):
    """The right password of a unit admin whose organisation's application was refused or ended."""

    def __init__(self, user_id: int, organisation_id: int):
        self.user_id = user_id
        self.organisation_id = organisation_id
        super().__init__(f"user {user_id}: the application of organisation {organisation_id} is not active")


# the statuses of an application that ended without approval: its admin may only read why
CLOSED = frozenset({OrganisationStatus.REJECTED, OrganisationStatus.TERMINATED})


def administered_application(session: Session, user_id: int) -> tuple[int, str] | None:
    """Return (organisation id, status) when the user is the admin of an organisation not yet active."""
    found = session.execute(
        select(Organisation.id, Organisation.status).where(
            Organisation.admin_user_id == user_id, Organisation.status != OrganisationStatus.ACTIVE
        )
    ).first()
    return (found[0], found[1]) if found else None


@dataclass(frozen=True)
class OrganisationApplication:
    kind: str
    name: str
    region_code: str
    credit_code: str | None
    admin_username: str
    admin_password: str
    admin_name: str
    authority_id: int | None = None
    industry: str | None = None
    contact_phone: str | None = None
    expected_persons: int = 0


@dataclass(frozen=True)
class OrganisationDetails:
    """What an applicant corrects in a returned organisation application: every field a reviewer checks."""

    kind: str
    name: str
    region_code: str
    credit_code: str
    admin_name: str
    authority_id: int | None = None
    industry: str | None = None
    contact_phone: str | None = None
    expected_persons: int = 0


@dataclass(frozen=True)
class PersonApplication:
    id_number: str
    name: str
    employer_id: int
    title_level: str
    title_series: str
    password: str
    certificate_number: str | None = None
    certificate_year: int | None = None


def active_hrss(session: Session, region_code: str) -> Organisation | None:
    """Return the active HRSS of a region, if it has registered."""
    return session.scalar(
        select(Organisation).where(
            Organisation.kind == OrganisationKind.HRSS,
            Organisation.region_code == region_code,
            Organisation.status == OrganisationStatus.ACTIVE,
        )
    )


def open_organisation_application(
    session: Session,
    application: OrganisationApplication,
    now: datetime,
    registrar: Organisation | None = None,
) -> tuple[int, int]:
    """Create a pending organisation and its unit admin's account; return (organisation id, user id)."""
    application = _cleaned_organisation(application)
    region, credit_code = _checked_details(session, application, registrar)
    org = Organisation(
        kind=application.kind,
        name=application.name,
        level=region.level,
        region_code=region.code,
        status=OrganisationStatus.PENDING,
        uscc=credit_code,
        authority_id=application.authority_id,
        industry=application.industry,
        contact_name=application.admin_name,
        contact_phone=application.contact_phone,
        expected_persons=application.expected_persons,
        created_at=now,
    )
    session.add(org)
    session.flush()
    admin = _open_account(
        session,
        application.admin_username,
        application.admin_password,
        application.admin_name,
        now,
        organisation_id=org.id,
        roles=ROLES[application.kind],
    )
    org.admin_user_id = admin.id
    return org.id, admin.id


def _checked_details(
    session, details, registrar=None, own_id: int | None = None
) -> tuple[Region, str | None]:
    """Check an application's region, parent (R1) and credit code; return the region and parsed code."""
    region = session.get(Region, details.region_code)
    if region is None:
        raise RegistrationRefused("no_region", region=details.region_code)
    _check_parent(session, details, region, registrar)
    credit_code = parse_credit_code(details.credit_code) if details.credit_code else None
    if credit_code:
        holder = session.scalar(select(Organisation.id).where(Organisation.uscc == credit_code))
        if holder is not None and holder != own_id:
            raise RegistrationRefused("credit_code_taken", code=credit_code)
    return region, credit_code


def correct_organisation_application(
    session: Session, organisation_id: int, details: OrganisationDetails, applicant_id: int
) -> None:
    """Apply a returned application's corrections, checked like the first application (R2).

    Only the organisation's own unit admin corrects it, and only while it is not yet active.
    """
    org = session.get(Organisation, organisation_id)
    if org is None or org.admin_user_id != applicant_id:
        raise RegistrationRefused("not_your_application")
    if org.status not in (OrganisationStatus.PENDING, OrganisationStatus.RETURNED):
        raise RegistrationRefused("application_closed")
    if details.kind not in ROLES or details.kind == OrganisationKind.HRSS:
        raise RegistrationRefused("unknown_kind", kind=details.kind)
    details = replace(
        details,
        name=clean_text(details.name, "name", 128),
        admin_name=clean_text(details.admin_name, "admin_name", 64),
        industry=clean_text(details.industry, "industry", 32) or None,
        contact_phone=clean_text(details.contact_phone, "contact_phone", 32) or None,
    )
    region, credit_code = _checked_details(session, details, own_id=org.id)
    org.kind = details.kind
    org.name = details.name
    org.level = region.level
    org.region_code = region.code
    org.uscc = credit_code
    org.authority_id = details.authority_id if details.kind == OrganisationKind.EMPLOYER else None
    org.industry = details.industry
    org.contact_name = details.admin_name
    org.contact_phone = details.contact_phone
    org.expected_persons = details.expected_persons
    admin = session.get(User, applicant_id)
    admin.display_name = details.admin_name
    admin.roles = ROLES[details.kind]
    org.status = OrganisationStatus.PENDING


def _cleaned_organisation(application: OrganisationApplication) -> OrganisationApplication:
    """Return the application with its typed text checked and normalised (domain.text)."""
    return replace(
        application,
        name=clean_text(application.name, "name", 128),
        admin_name=clean_text(application.admin_name, "admin_name", 64),
        admin_username=clean_text(application.admin_username, "admin_username", 64),
        industry=clean_text(application.industry, "industry", 32) or None,
        contact_phone=clean_text(application.contact_phone, "contact_phone", 32) or None,
    )


def _check_parent(session, application, region, registrar) -> None:
    """Nothing registers under a parent that is not active (R1)."""
    if application.kind == OrganisationKind.HRSS:
        expected = LOWER_LEVEL.get(registrar.level) if registrar else None
        if (
            registrar is None
            or registrar.kind != OrganisationKind.HRSS
            or region.parent_code != registrar.region_code
        ):
            raise RegistrationRefused("hrss_by_level_above")
        if region.level != expected or registrar.status != OrganisationStatus.ACTIVE:
            raise RegistrationRefused("hrss_by_level_above")
        return
    if active_hrss(session, region.code) is None:
        raise RegistrationRefused("hrss_not_active", region=region.name)
    if application.kind == OrganisationKind.EMPLOYER:
        authority = session.get(Organisation, application.authority_id) if application.authority_id else None
        if authority is None or authority.kind != OrganisationKind.AUTHORITY:
            raise RegistrationRefused("no_authority")
        if authority.status != OrganisationStatus.ACTIVE:
            raise RegistrationRefused("authority_not_active", name=authority.name)
        if authority.region_code not in {region.code, *ancestors(load_regions(session), region.code)}:
            raise RegistrationRefused("authority_out_of_region", name=authority.name, region=region.name)


def _open_account(session: Session, *args, **kwargs) -> User:
    """Open the applicant's account; a taken username refuses the application (the caller rolls back)."""
    try:
        return open_account(session, *args, **kwargs)
    except UsernameTaken as taken:
        raise RegistrationRefused("username_taken", username=taken.username) from None


def open_person_application(
    session: Session, application: PersonApplication, now: datetime
) -> tuple[int, int]:
    """Create a pending person with a login by ID number (R18: one ID, one account)."""
    application = replace(
        application,
        name=clean_text(application.name, "name", 64),
        title_series=clean_text(application.title_series, "title_series", 64),
        certificate_number=clean_text(application.certificate_number, "certificate_number", 32) or None,
    )
    parsed = parse_id_number(application.id_number, china_day(now))
    if session.scalar(select(Person.id).where(Person.id_number == parsed.value)):
        raise RegistrationRefused("id_number_taken")
    employer = registering_employer(session, application.employer_id)
    if application.title_level not in set(TitleLevel):
        raise RegistrationRefused("unknown_title", level=application.title_level)
    if application.certificate_number and application.certificate_year not in KEPT_YEARS:
        raise RegistrationRefused("certificate_year_required")
    user = _open_account(session, parsed.value, application.password, application.name, now)
    person = Person(
        id_number=parsed.value,
        name=application.name,
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        employer_id=employer.id,
        region_code=employer.region_code,
        title_level=application.title_level,
        title_series=application.title_series,
        status=PersonStatus.PENDING,
        user_id=user.id,
        created_at=now,
    )
    session.add(person)
    session.flush()
    if application.certificate_number:
        try:
            keep_existing_number(
                session, person.id, application.certificate_number.strip(), application.certificate_year, now
            )
        except NumberInUse as taken:  # the caller rolls the whole application back
            raise RegistrationRefused("certificate_number_taken", number=taken.number) from None
    return person.id, user.id


def activate_organisation(session: Session, organisation_id: int, now: datetime) -> None:
    """Make an approved organisation active, registered with its same-level HRSS."""
    org = session.get(Organisation, organisation_id)
    if org.kind != OrganisationKind.HRSS:
        hrss = active_hrss(session, org.region_code)
        if hrss is None:
            raise RegistrationRefused("hrss_not_active", region=org.region_code)
        org.registered_with_id = hrss.id
    org.status = OrganisationStatus.ACTIVE
    org.activated_at = now


# how a process's end status reads on its organisation or person (the two status sets share these values)
_ENDED_AS = {
    "withdrawn": OrganisationStatus.WITHDRAWN,
    "terminated": OrganisationStatus.TERMINATED,
    "rejected": OrganisationStatus.REJECTED,
}


def close_organisation_application(session: Session, organisation_id: int, status: str) -> None:
    """Record how an application ended without approval (rejected, withdrawn, terminated)."""
    org = session.get(Organisation, organisation_id)
    if org.status != OrganisationStatus.ACTIVE:
        org.status = _ENDED_AS.get(status, OrganisationStatus.REJECTED)
        admin = session.get(User, org.admin_user_id) if org.admin_user_id else None
        if admin is not None and status != "withdrawn":
            admin.active = False


def activate_person(session: Session, person_id: int, now: datetime) -> None:
    """Make an approved person active; name and employer are locked from now on (R18)."""
    person = session.get(Person, person_id)
    employer = session.get(Organisation, person.employer_id)
    if employer.status != OrganisationStatus.ACTIVE:
        raise RegistrationRefused("employer_not_active", name=employer.name)
    person.status = PersonStatus.ACTIVE
    person.registered_at = now


def close_person_application(session: Session, person_id: int, status: str) -> None:
    """Record how a person's application ended without approval."""
    person = session.get(Person, person_id)
    if person.status != PersonStatus.ACTIVE:
        person.status = _ENDED_AS.get(status, PersonStatus.REJECTED)


def update_organisation_application(session: Session, organisation_id: int, values: dict) -> None:
    """Apply the applicant's corrections to a pending organisation."""
    org = session.get(Organisation, organisation_id)
    if org.status == OrganisationStatus.ACTIVE:
        return
    for field, most in (("name", 128), ("contact_name", 64), ("contact_phone", 32)):
        if values.get(field):
            setattr(org, field, clean_text(str(values[field]), field, most))
    if values.get("expected_persons") not in (None, ""):
        org.expected_persons = int(values["expected_persons"])
    org.status = OrganisationStatus.PENDING


def registering_employer(session: Session, employer_id: int | None) -> Organisation:
    """Return the employer a person registers with: an active employer, or refuse (R2)."""
    employer = session.get(Organisation, employer_id) if employer_id else None
    if employer is None or employer.kind != OrganisationKind.EMPLOYER:
        raise RegistrationRefused("no_employer")
    if employer.status != OrganisationStatus.ACTIVE:
        raise RegistrationRefused("employer_not_active", name=employer.name)
    return employer


def move_person_application(
    session: Session, person_id: int, employer_id: int, applicant_id: int
) -> Organisation:
    """Move a returned person's application to another employer, checked as at registration.

    Only the person corrects their own pending application; their region follows the employer's,
    and the employer's HR reviews it next (the process routes by the employer in its data).
    """
    person = session.get(Person, person_id)
    if person is None or person.user_id != applicant_id:
        raise RegistrationRefused("not_your_registration")
    if person.status not in (PersonStatus.PENDING, PersonStatus.RETURNED):
        raise RegistrationRefused("application_closed")
    employer = registering_employer(session, employer_id)
    person.employer_id = employer.id
    person.region_code = employer.region_code
    return employer


def update_person_application(session: Session, person_id: int, values: dict) -> None:
    """Apply a pending person's corrections (name and title); the ID number never changes."""
    person = session.get(Person, person_id)
    if person.status == PersonStatus.ACTIVE:
        return
    if values.get("name"):
        person.name = clean_text(str(values["name"]), "name", 64)
    if values.get("title_level") in set(TitleLevel):
        person.title_level = values["title_level"]
    if values.get("title_series") is not None:
        person.title_series = clean_text(str(values["title_series"]), "title_series", 64)
    person.status = PersonStatus.PENDING
