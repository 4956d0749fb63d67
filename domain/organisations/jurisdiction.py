"""Who sees what (R15): one place that turns an actor into the records it may see."""

from dataclasses import dataclass

from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.orm import Session

from domain.accounts.users import Actor
from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import load_regions
from domain.persons.records import Person


class NotVisible(LookupError):
    """The record does not exist or lies outside the actor's jurisdiction (shown as 404)."""


@dataclass(frozen=True)
class Scope:
    """The part of the world an actor may see."""

    everything: bool = False
    region_codes: frozenset[str] = frozenset()
    authority_id: int | None = None
    employer_id: int | None = None
    institution_id: int | None = None
    person_id: int | None = None
    organisation_id: int | None = None


def region_and_below(session: Session, code: str) -> frozenset[str]:
    """Return a region's code with the codes of every region under it."""
    regions = load_regions(session)
    children: dict[str, list[str]] = {}
    for region in regions.values():
        if region.parent_code:
            children.setdefault(region.parent_code, []).append(region.code)
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return frozenset(found)


def scope_for(session: Session, actor: Actor) -> Scope:
    """Return what an actor may see: an HRSS its region and below, an authority its industry, and so on."""
    if actor.is_admin:
        return Scope(everything=True)
    kind, org = actor.organisation_kind, actor.organisation_id
    if kind == OrganisationKind.HRSS:
        return Scope(region_codes=region_and_below(session, actor.region_code), organisation_id=org)
    if kind == OrganisationKind.AUTHORITY:
        return Scope(authority_id=org, organisation_id=org)
    if kind == OrganisationKind.EMPLOYER:
        return Scope(employer_id=org, organisation_id=org)
    if kind == OrganisationKind.INSTITUTION:
        return Scope(institution_id=org, organisation_id=org)
    employer = session.scalar(select(Person.employer_id).where(Person.id == actor.person_id))
    return Scope(person_id=actor.person_id, organisation_id=employer)  # a person sees their employer too


def region_filter(scope: Scope, region_column):
    """Return the SQL condition on a region column for a scope that sees by region, or None otherwise."""
    if scope.everything:
        return true()
    if scope.region_codes:
        return region_column.in_(scope.region_codes)
    return None


def organisation_filter(scope: Scope):
    """Return the SQL condition on Organisation for a scope."""
    if scope.everything:
        return true()
    clauses = []
    if scope.region_codes:
        clauses.append(Organisation.region_code.in_(scope.region_codes))
    if scope.authority_id is not None:
        clauses.append(Organisation.authority_id == scope.authority_id)
    if scope.organisation_id is not None:
        clauses.append(Organisation.id == scope.organisation_id)
    return or_(*clauses) if clauses else false()


def person_filter(scope: Scope):
    """Return the SQL condition on Person for a scope."""
    if scope.everything:
        return true()
    if scope.region_codes:
        return Person.region_code.in_(scope.region_codes)
    if scope.authority_id is not None:
        employers = select(Organisation.id).where(Organisation.authority_id == scope.authority_id)
        return Person.employer_id.in_(employers.scalar_subquery())
    if scope.employer_id is not None:
        return Person.employer_id == scope.employer_id
    if scope.person_id is not None:
        return Person.id == scope.person_id
    return false()  # institutions see enrolled persons once enrolment exists


def visible_organisation(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    """Return an organisation the actor may see, or raise NotVisible."""
    found = session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id, organisation_filter(scope_for(session, actor))
        )
    )
    if found is None:
        raise NotVisible(f"organisation {organisation_id}")
    return found


def visible_person(session: Session, actor: Actor, person_id: int) -> Person:
    """Return a person the actor may see, or raise NotVisible."""
    found = session.scalar(
        select(Person).where(Person.id == person_id, person_filter(scope_for(session, actor)))
    )
    if found is None:
        raise NotVisible(f"person {person_id}")
    return found
