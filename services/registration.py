"""Registration use cases: apply (organisation or person), resubmit a returned application, withdraw one.

An application's records and the approval process they start are one command: the records are
written in the command's session, then the process starts in the same transaction, so either both
are stored or neither is (a process that cannot start leaves no half-registered account behind).
"""

from domain.accounts.users import Actor
from domain.accounts.users import actor_for
from domain.identity import IdentifierError
from domain.organisations.records import Organisation
from domain.persons.records import Person
from domain.registration.applications import OrganisationApplication
from domain.registration.applications import OrganisationDetails
from domain.registration.applications import PersonApplication
from domain.registration.applications import RegistrationRefused
from domain.registration.applications import correct_organisation_application
from domain.registration.applications import move_person_application
from domain.registration.applications import open_organisation_application
from domain.registration.applications import open_person_application
from domain.text import TextRefused
from engine.inbox.applications import business_key_of_task
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.tasks.commands import complete_in
from engine.tasks.commands import start_in
from engine.tasks.commands import withdraw_instance

REFUSALS = (RegistrationRefused, IdentifierError, TextRefused)
ORGANISATION_PROCESS = "register_organisation"
PERSON_PROCESS = "register_person"


def apply_for_organisation(
    rt: Runtime, application: OrganisationApplication, registrar_id: int | None = None
) -> int:
    """Open an organisation's application and submit it to the HRSS; return the instance id."""

    def body(ctx: CommandContext) -> int:
        session = ctx.session
        registrar = session.get(Organisation, registrar_id) if registrar_id else None
        org_id, user_id = open_organisation_application(session, application, ctx.now, registrar)
        data = {
            "organisation_id": org_id,
            "kind": application.kind,
            "region_code": application.region_code,
            "subject": f"单位注册：{application.name}",
            "name": application.name,
            "expected_persons": application.expected_persons,
            "contact_phone": application.contact_phone,
        }
        return _submit(ctx, ORGANISATION_PROCESS, data, f"organisation_id:{org_id}", user_id)

    return run_command(rt, "register", None, body, refusals=REFUSALS)


def apply_as_person(rt: Runtime, application: PersonApplication) -> int:
    """Open a person's application and submit it to the employer; return the instance id."""

    def body(ctx: CommandContext) -> int:
        session = ctx.session
        person_id, user_id = open_person_application(session, application, ctx.now)
        person = session.get(Person, person_id)
        data = {
            "person_id": person_id,
            "employer_id": person.employer_id,
            "region_code": person.region_code,
            "subject": f"个人注册：{person.name}",
            "name": person.name,
            "title_level": person.title_level,
            "title_series": person.title_series,
        }
        return _submit(ctx, PERSON_PROCESS, data, f"person_id:{person_id}", user_id)

    return run_command(rt, "register", None, body, refusals=REFUSALS)


def resubmit_person(rt: Runtime, actor: Actor, task_id: int, corrections: dict) -> None:
    """Resubmit a returned person's application; a corrected name renames the process (个人注册：姓名).

    Another employer (`employer_id`) moves the application, checked as at registration, in the same
    command: its HR reviews it next; a refused employer leaves the step open and changes nothing.
    """
    data = dict(corrections)
    if data.get("name"):
        data["subject"] = f"个人注册：{str(data['name']).strip()}"
    employer_id = data.pop("employer_id", None)

    def body(ctx: CommandContext) -> None:
        if employer_id:
            person_id = _record_id(ctx.session, task_id, "person_id", "not_your_registration")
            employer = move_person_application(ctx.session, person_id, int(employer_id), actor.id)
            data.update(employer_id=employer.id, region_code=employer.region_code)
        complete_in(ctx, task_id, data, "", "resubmit")

    run_command(rt, "resubmit", actor, body, task_id, refusals=REFUSALS)


def resubmit_organisation(rt: Runtime, actor: Actor, task_id: int, details: OrganisationDetails) -> None:
    """Correct a returned organisation application, checked like the first one, and resubmit it (重新提交).

    The record's corrections and the step's completion are one command: a refused correction (a
    credit code another organisation holds, an authority out of the region) leaves the step open.
    """

    def body(ctx: CommandContext) -> None:
        organisation_id = _record_id(ctx.session, task_id, "organisation_id", "not_your_application")
        correct_organisation_application(ctx.session, organisation_id, details, actor.id)
        data = {
            "kind": details.kind,
            "name": details.name.strip(),
            "region_code": details.region_code,
            "contact_name": details.admin_name.strip(),
            "contact_phone": details.contact_phone or "",
            "expected_persons": details.expected_persons,
            "subject": f"单位注册：{details.name.strip()}",
        }
        complete_in(ctx, task_id, data, "", "resubmit")

    run_command(rt, "resubmit", actor, body, task_id, refusals=REFUSALS)


def _record_id(session, task_id: int, kind: str, refusal: str) -> int:
    """Return the id of the record a registration's task is about (business key `kind:id`), or refuse."""
    key = business_key_of_task(session, task_id) or ""
    if not key.startswith(f"{kind}:"):
        raise RegistrationRefused(refusal)
    return int(key.removeprefix(f"{kind}:"))


def withdraw_application(rt: Runtime, actor: Actor, instance_id: int, reason: str = "") -> None:
    """Take back one's pending application while every open step allows it (撤回)."""
    withdraw_instance(rt, actor, instance_id, reason)


def _submit(ctx: CommandContext, process_key: str, data: dict, business_key: str, user_id: int) -> int:
    """Start the application's process in this command, the new account as its initiator."""
    applicant = actor_for(ctx.session, user_id)
    return start_in(ctx, process_key, data, business_key=business_key, submit=dict(data), initiator=applicant)
