"""Registration use cases: open the application records, then start its approval process."""

from collections.abc import Callable

from sqlalchemy import delete

from domain.accounts.users import User
from domain.accounts.users import actor_for
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.registration.applications import OrganisationApplication
from domain.registration.applications import PersonApplication
from domain.registration.applications import open_organisation_application
from domain.registration.applications import open_person_application
from engine.errors import EngineError
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.tasks.commands import start_instance


def apply_for_organisation(
    rt: Runtime, application: OrganisationApplication, registrar_id: int | None = None
):
    """Open an organisation's application and submit it to the HRSS; return the instance id."""

    def open_records(session):
        registrar = session.get(Organisation, registrar_id) if registrar_id else None
        org_id, user_id = open_organisation_application(session, application, rt.clock(), registrar)
        return {
            "organisation_id": org_id,
            "kind": application.kind,
            "region_code": application.region_code,
            "subject": f"单位注册：{application.name}",
            "name": application.name,
            "expected_persons": application.expected_persons,
            "contact_phone": application.contact_phone,
        }, user_id

    return _open_and_start(rt, "register_organisation", open_records, Organisation, "organisation_id")


def apply_as_person(rt: Runtime, application: PersonApplication):
    """Open a person's application and submit it to the employer; return the instance id."""

    def open_records(session):
        person_id, user_id = open_person_application(session, application, rt.clock())
        person = session.get(Person, person_id)
        return {
            "person_id": person_id,
            "employer_id": person.employer_id,
            "region_code": person.region_code,
            "subject": f"个人注册：{person.name}",
            "name": person.name,
            "title_level": person.title_level,
            "title_series": person.title_series,
        }, user_id

    return _open_and_start(rt, "register_person", open_records, Person, "person_id")


def _open_and_start(rt: Runtime, key: str, open_records: Callable, model, id_key: str):
    with unit_of_work(rt) as session:
        data, user_id = open_records(session)
    with rt.session_factory() as session:
        actor = actor_for(session, user_id)
    try:
        return start_instance(
            rt, key, actor, data, business_key=f"{id_key}:{data[id_key]}", submit=dict(data)
        )
    except EngineError:
        _undo(rt, model, data[id_key], user_id)  # nothing half-registered stays behind
        raise


def _undo(rt: Runtime, model, record_id: int, user_id: int) -> None:
    with unit_of_work(rt) as session:
        if model is Organisation:
            session.get(Organisation, record_id).admin_user_id = None
            session.flush()
        if model is Person:
            session.execute(delete(Person).where(Person.id == record_id))
        session.execute(delete(User).where(User.id == user_id))
        if model is Organisation:
            session.execute(delete(Organisation).where(Organisation.id == record_id))
