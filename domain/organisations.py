"""Regions and organisations: the HRSS offices, authorities, employers and institutions."""

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from domain.base import Base


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


class Organisation(Base):
    """A registered organisation of one of the four kinds."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]


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
