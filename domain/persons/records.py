"""Professionals (专业技术人员): registered with an employer, identified by their ID card number."""

import enum
from datetime import date
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import validates

from domain.base import Base
from domain.text import SORT_KEY_LENGTH
from domain.text import sort_key
from domain.text import sort_key_of_name


class TitleLevel(enum.StrEnum):
    SENIOR_FULL = "senior_full"  # 正高级
    SENIOR_ASSOCIATE = "senior_associate"  # 副高级
    INTERMEDIATE = "intermediate"  # 中级
    JUNIOR = "junior"  # 初级


class PersonStatus(enum.StrEnum):
    PENDING = "pending"
    RETURNED = "returned"
    ACTIVE = "active"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Person(Base):
    """A professional; the ID number is the login and never changes (R18)."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_employer_status", "employer_id", "status"),
        # an HRSS's directory: its regions' persons counted per status, and the list read in name order
        Index("ix_person_region_status", "region_code", "status"),
        Index("ix_person_sort_name", "sort_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    sort_name: Mapped[str] = mapped_column(String(SORT_KEY_LENGTH), default=sort_key_of_name)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date]
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    region_code: Mapped[str] = mapped_column(String(6))
    title_level: Mapped[str] = mapped_column(String(24))
    title_series: Mapped[str] = mapped_column(String(64), default="")
    certificate_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    certificate_year: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=PersonStatus.PENDING)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]

    @validates("name")
    def _keep_sort_name(self, _key: str, name: str) -> str:
        """Keep the natural sort key in step with the name, on a rename as on an insert."""
        self.sort_name = sort_key(name)
        return name
