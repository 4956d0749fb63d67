"""Regions and organisations: the HRSS offices, authorities, employers and institutions."""

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates

from domain.base import Base
from domain.text import SORT_KEY_LENGTH
from domain.text import sort_key
from domain.text import sort_key_of_name


class RegionLevel(enum.StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class OrganisationKind(enum.StrEnum):
    HRSS = "hrss"
    AUTHORITY = "authority"
    EMPLOYER = "employer"
    INSTITUTION = "institution"


class Region(Base):
    """A GB/T 2260 administrative region (or a development zone treated as one)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"
    RETURNED = "returned"
    ACTIVE = "active"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    INACTIVE = "inactive"


class Organisation(Base):
    """A registered (or registering) organisation of one of the four kinds."""

    __tablename__ = "organisation"
    __table_args__ = (
        Index("ix_organisation_region_kind", "region_code", "kind", "status"),
        Index("ix_organisation_sort_name", "sort_name", "id"),  # the directory reads in natural name order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(128))
    sort_name: Mapped[str] = mapped_column(String(SORT_KEY_LENGTH), default=sort_key_of_name)
    level: Mapped[str] = mapped_column(String(16), default=RegionLevel.COUNTY)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    status: Mapped[str] = mapped_column(String(16), default=OrganisationStatus.ACTIVE)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    registered_with_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    expected_persons: Mapped[int] = mapped_column(default=0)
    admin_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", use_alter=True, name="fk_organisation_admin_user_id_user_account")
    )
    created_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]

    @validates("name")
    def _keep_sort_name(self, _key: str, name: str) -> str:
        """Keep the natural sort key in step with the name, on a rename as on an insert."""
        self.sort_name = sort_key(name)
        return name


@dataclass(frozen=True)
class RegionView:
    code: str
    name: str
    level: str
    parent_code: str | None


def load_regions(session: Session) -> dict[str, RegionView]:
    """Return every region by code (a province has a few hundred at most)."""
    rows = session.execute(select(Region.code, Region.name, Region.level, Region.parent_code))
    return {r.code: RegionView(r.code, r.name, r.level, r.parent_code) for r in rows}


def ancestors(regions: dict[str, RegionView], code: str) -> list[str]:
    """Return the codes above a region, nearest first."""
    found = []
    parent = regions[code].parent_code if code in regions else None
    while parent is not None:
        found.append(parent)
        parent = regions[parent].parent_code
    return found


def region_at_level(regions: dict[str, RegionView], code: str, level: str) -> str | None:
    """Return the region at `level` that contains `code` (itself included)."""
    for candidate in [code, *ancestors(regions, code)]:
        if candidate in regions and regions[candidate].level == level:
            return candidate
    return None
