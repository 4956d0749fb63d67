"""Supervision use case: produce this week's supervision notices (scheduler, CLI and demo seed alike)."""

from collections.abc import Sequence

from domain.supervision.notices import produce_supervision_notices
from domain.supervision.notices import supervision_period
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from infra.mail import Mailer


def produce_weekly_notices(
    rt: Runtime, mailer: Mailer | None = None, recipients: Sequence[str] = ()
) -> list[int]:
    """Produce each HRSS's notice for the current week in one transaction; mail them once it commits."""
    now = rt.clock()
    with unit_of_work(rt) as session:
        return produce_supervision_notices(session, supervision_period(now), now, mailer, recipients)
