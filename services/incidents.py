"""Incident use cases: retry failed steps once their cause is fixed, or end an instance with a reason.

Only administrators mend incidents; anyone else is answered as if there were none (NotVisible, a 404).
"""

from dataclasses import dataclass

from domain.accounts.users import Actor
from domain.organisations.jurisdiction import NotVisible
from engine.errors import EngineError
from engine.runtime import Runtime
from engine.tasks import incidents

MAX_RETRY = 100


@dataclass(frozen=True)
class RetryOutcome:
    """What became of one instance's retry: its step ran, or the error it stopped at."""

    instance_id: int
    ok: bool
    error: EngineError | None = None


def retry_incidents(rt: Runtime, actor: Actor, instance_ids: list[int]) -> list[RetryOutcome]:
    """Retry each instance's failed step in its own command: one failing again undoes no other's retry."""
    _require_admin(actor)
    outcomes = []
    for instance_id in dict.fromkeys(instance_ids):
        try:
            incidents.retry_instance(rt, actor, instance_id)
        except EngineError as error:
            outcomes.append(RetryOutcome(instance_id, False, error))
            continue
        outcomes.append(RetryOutcome(instance_id, True))
    return outcomes


def end_incident_instance(rt: Runtime, actor: Actor, instance_id: int, reason: str) -> None:
    """End an instance whose step failed, with the reason; its open incidents are resolved in the same go."""
    _require_admin(actor)
    incidents.end_incident_instance(rt, actor, instance_id, reason.strip())


def _require_admin(actor: Actor) -> None:
    # an administrator's jurisdiction is everything (scope_for); nobody else sees an incident
    if not actor.is_admin:
        raise NotVisible("incidents")
