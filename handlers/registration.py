"""Service-task operations of the registration processes (register_organisation, register_person)."""

from datetime import datetime

from sqlalchemy.orm import Session

from domain.accounts.principals import org_principal
from domain.certificates.numbers import allocate_range
from domain.certificates.numbers import draw_number
from domain.certificates.records import RangeExhausted
from domain.notices.records import Notice
from domain.persons.records import Person
from domain.registration import applications as registration


def update_organisation(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Apply the applicant's (re)submitted form to the pending organisation."""
    registration.update_organisation_application(session, int(data["organisation_id"]), data)
    return {}


def activate_organisation(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Activate an approved organisation."""
    registration.activate_organisation(session, int(data["organisation_id"]), now)
    return {"activated": True}


def update_person(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Apply a person's (re)submitted form to the pending registration."""
    registration.update_person_application(session, int(data["person_id"]), data)
    return {}


def assign_certificate_number(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Draw the person's certificate number from the employer's range, unless they keep an old one (R5)."""
    person = session.get(Person, int(data["person_id"]))
    if person.certificate_number:
        return {"assigned": True, "number": person.certificate_number, "kept": True}
    try:
        number = draw_number(session, person.employer_id, person.id, now)
    except RangeExhausted as exhausted:
        session.add(
            Notice(
                recipient=org_principal(person.employer_id, "hr"),
                kind="range_exhausted",
                title="继续教育证书号段已用完，已提请人社部门分配新号段",
                body=str(exhausted),
                created_at=now,
            )
        )
        return {"assigned": False, "reason": str(exhausted)}
    return {"assigned": True, "number": number, "kept": False}


def allocate_numbers(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Allocate a further range to the employer, as the HRSS decided in its task."""
    size = int(data.get("range_size") or 0)
    hrss_id = int(data["last_actor_organisation_id"])
    created = allocate_range(session, hrss_id, int(data["employer_id"]), size, now)
    return {"range_id": created.id}


def activate_person(session: Session, data: dict, *, now: datetime, **_) -> dict:
    """Activate an approved person."""
    registration.activate_person(session, int(data["person_id"]), now)
    return {"activated": True}


def end_organisation_application(session: Session, data: dict, status: str, *, now: datetime) -> None:
    """Close an organisation application that ended without approval."""
    registration.close_organisation_application(session, int(data["organisation_id"]), status)


def end_person_application(session: Session, data: dict, status: str, *, now: datetime) -> None:
    """Close a person's application that ended without approval."""
    registration.close_person_application(session, int(data["person_id"]), status)


OPERATIONS = {
    "update_organisation": update_organisation,
    "activate_organisation": activate_organisation,
    "update_person": update_person,
    "assign_certificate_number": assign_certificate_number,
    "allocate_numbers": allocate_numbers,
    "activate_person": activate_person,
}
END_HOOKS = {
    "register_organisation": end_organisation_application,
    "register_person": end_person_application,
}
