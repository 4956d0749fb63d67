"""Courses (课程) institutions and industry authorities file with the HRSS; only approved ones give hours."""

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from domain.base import Base


class Subject(enum.StrEnum):
    PUBLIC = "public"  # 公需科目
    PROFESSIONAL = "professional"  # 专业科目


class Mode(enum.StrEnum):
    ONLINE = "online"  # 网络培训
    FACE_TO_FACE = "face_to_face"  # 面授培训


class CourseStatus(enum.StrEnum):
    PENDING = "pending"  # filed, under review (or returned to the filer to correct)
    APPROVED = "approved"  # 备案同意: in the catalogue, gives hours
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the filer took the filing back before a decision
    SUPERSEDED = "superseded"  # a later filing of the same course was approved; this version is kept
    RETIRED = "retired"  # taken out of the catalogue


class Course(Base):
    """One filed version of a course; a change is a new filing that supersedes it once approved."""

    __tablename__ = "course"
    __table_args__ = (
        Index("ix_course_catalogue", "year", "status", "region_code"),
        Index("ix_course_filer", "filer_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    filer_kind: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6))  # the filer's region
    title: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(16))
    industry: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[int]
    mode: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    fee_cents: Mapped[int]  # per person, the approved price (R13), in 分
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.PENDING)
    filing_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"))
    filed_by_id: Mapped[int | None]
    filed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    retired_reason: Mapped[str | None] = mapped_column(String(500))


class FilingCounter(Base):
    """The last filing number an approving HRSS gave in a year; one row locked per approval."""

    __tablename__ = "course_filing_counter"

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
