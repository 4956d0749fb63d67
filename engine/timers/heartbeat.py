"""The scheduler's heartbeat: each sweep notes its time, so a readiness check can see a live scheduler."""

from datetime import datetime
from datetime import timedelta

from sqlalchemy import String
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from domain.base import Base
from domain.base import UtcDateTime
from engine.runtime import Runtime

FORGET_AFTER = timedelta(days=1)  # rows of schedulers long gone (a node name is host-pid) are dropped


class SchedulerHeartbeat(Base):
    """The last sweep of one scheduler process."""

    __tablename__ = "scheduler_heartbeat"

    node: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(timezone=True))


def record_heartbeat(rt: Runtime, node: str | None = None) -> datetime:
    """Note that the scheduler `node` (this runtime's node by default) sweeps now; return the time noted."""
    node = node or rt.node_name
    at = rt.clock()
    with rt.session_factory() as session, session.begin():
        noted = session.execute(
            update(SchedulerHeartbeat).where(SchedulerHeartbeat.node == node).values(at=at)
        )
        if noted.rowcount == 0:
            session.add(SchedulerHeartbeat(node=node, at=at))
        session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.at < at - FORGET_AFTER))
    return at


def last_heartbeat(rt: Runtime) -> datetime | None:
    """Return the latest sweep of any scheduler, or None when none has swept."""
    with rt.session_factory() as session:
        return session.scalar(select(func.max(SchedulerHeartbeat.at)))
