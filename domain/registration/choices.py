"""What an applicant picks from on the registration forms: regions, authorities, employers (R1)."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.organisations.records import Organisation
from domain.organisations.records import OrganisationKind
from domain.organisations.records import OrganisationStatus
from domain.organisations.records import Region
from domain.organisations.records import ancestors
from domain.organisations.records import load_regions


@dataclass(frozen=True)
class Choice:
    value: int | str
    label: str


def region_choices(session: Session) -> list[Choice]:
    """Return the regions an applicant can pick, city first."""
    rows = session.execute(select(Region.code, Region.name, Region.level).order_by(Region.code))
    return [Choice(code, name) for code, name, level in rows if level != "province"]


def authority_choices(session: Session, region_code: str | None = None) -> list[Choice]:
    """Return the active industry authorities an employer can belong to (R1).

    Given the employer's region, only those of that region and the levels above it.
    """
    query = (
        select(Organisation.id, Organisation.name, Region.name)
        .join(Region, Region.code == Organisation.region_code)
        .where(
            Organisation.kind == OrganisationKind.AUTHORITY, Organisation.status == OrganisationStatus.ACTIVE
        )
        .order_by(Organisation.region_code, Organisation.sort_name, Organisation.id)
    )
    if region_code:
        codes = [region_code, *ancestors(load_regions(session), region_code)]
        query = query.where(Organisation.region_code.in_(codes))
    rows = session.execute(query)
    return [Choice(org_id, f"{region}·{name}") for org_id, name, region in rows]


def employer_choices(session: Session, region_code: str) -> list[Choice]:
    """Return the active employers of a region a person can register with."""
    rows = session.execute(
        select(Organisation.id, Organisation.name)
        .where(
            Organisation.kind == OrganisationKind.EMPLOYER,
            Organisation.status == OrganisationStatus.ACTIVE,
            Organisation.region_code == region_code,
        )
        .order_by(Organisation.sort_name, Organisation.id)
    )
    return [Choice(org_id, name) for org_id, name in rows]
