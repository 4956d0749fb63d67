"""The notice centre: messages to a user or to a group, from timers, approvers and supervision."""

from datetime import datetime

from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from domain.base import Base


class Notice(Base):
    """A message in the notice centre of every user its principal names."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_recipient_created", "recipient", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    instance_id: Mapped[int | None]
    task_id: Mapped[int | None]
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
