"""Certificate-number (继续教育证书管理号, R5) records: the range and number tables, statuses, errors, format.

Number format: 16 digits, the allocating HRSS's region code (6) + the year of allocation in Beijing
time (4) + a zero-padded sequence (6), e.g. ``4104222025000001``. The first ten digits are the
range's ``prefix``. Numbers kept from 2013/2014 certificates are stored as issued, with status
"kept" and no range. The commands that write these rows are in domain.certificates.numbers.
"""

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from domain.base import Base
from domain.calendar.deadlines import china_day
from domain.refusals import Refusal

SEQUENCE_DIGITS = 6
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1
NUMBER_LENGTH = 10 + SEQUENCE_DIGITS


class NumberStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    KEPT = "kept"
    VOIDED = "voided"


class NumberRange(Base):
    """A range (号段) of sequences under one prefix, allocated by an HRSS to one employer."""

    __tablename__ = "number_range"
    __table_args__ = (
        UniqueConstraint("prefix", "first", name="uq_number_range_prefix_first"),
        CheckConstraint("first >= 1 AND first <= last", name="bounds"),
        CheckConstraint("next_value >= first AND next_value <= last + 1", name="next_value"),
        Index("ix_number_range_employer_open", "employer_id", "exhausted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    prefix: Mapped[str] = mapped_column(String(10))
    first: Mapped[int]
    last: Mapped[int]
    next_value: Mapped[int]
    allocated_by_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    allocated_at: Mapped[datetime]
    exhausted_at: Mapped[datetime | None]


class CertificateNumber(Base):
    """A number that was handed out, kept from an old certificate, or voided; never deleted."""

    __tablename__ = "certificate_number"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    range_id: Mapped[int | None] = mapped_column(ForeignKey("number_range.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    void_reason: Mapped[str | None] = mapped_column(String(255))
    assigned_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # who voided it (audit)


@dataclass(frozen=True)
class RangeUsage:
    """How many numbers an employer was allocated, has handed out (voided ones included), has left."""

    total: int
    used: int
    left: int


class CertificateError(Refusal):
    """A certificate-number command was refused; `code` and `params` say why."""


class NumberInUse(CertificateError):
    """A number to keep is already recorded, held or inside an allocated range; params["number"] is which."""

    @property
    def number(self) -> str:
        return self.params["number"]


class RangeError(CertificateError):
    """A range cannot be allocated as asked."""


class RangeExhausted(Exception):
    """The employer has no certificate number left; the HRSS must allocate a new range."""

    def __init__(self, employer_id: int, employer_name: str, usage: RangeUsage):
        self.employer_id = employer_id
        self.usage = usage
        if usage.total == 0:
            state = "has not been allocated a certificate number range (号段) yet"
        else:
            state = (
                f"has used up its certificate number range (号段): "
                f"{usage.used} of {usage.total} numbers handed out, {usage.left} left"
            )
        super().__init__(
            f"{employer_name} (employer {employer_id}) {state}. The HRSS (人社部门) must allocate "
            "a new range before more persons can be given a certificate number."
        )


def range_prefix(region_code: str, now: datetime) -> str:
    """Return the prefix of ranges allocated by an HRSS of this region in the year of `now` (Beijing)."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise RangeError("range_region_code_invalid", region_code=region_code)
    return f"{region_code}{china_day(now).year:04d}"


def format_number(prefix: str, sequence: int) -> str:
    """Return the certificate number of a sequence under a prefix."""
    return f"{prefix}{sequence:0{SEQUENCE_DIGITS}d}"
