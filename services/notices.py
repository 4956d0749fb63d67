"""Notice centre use case: mark a notice read."""

from domain.accounts.users import Actor
from domain.notices import centre
from engine.runtime import Runtime
from engine.runtime import unit_of_work


def mark_notice_read(rt: Runtime, actor: Actor, notice_id: int) -> bool:
    """Record that the actor read one of their notices; return False when it was read already."""
    with unit_of_work(rt) as session:
        return centre.mark_read(session, actor, notice_id, rt.clock())
