"""Process use cases: deploy a diagram as a new version, start a process (and submit its first step)."""

from domain.accounts.users import Actor
from domain.accounts.users import actor_for
from domain.text import TextRefused
from engine.errors import InvalidCommand
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.definitions import DeployedVersion
from engine.runtime.definitions import deploy
from engine.tasks import permissions
from engine.tasks.commands import start_in

LARGEST_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; a larger one names nobody


def deploy_diagram(rt: Runtime, data: bytes, source: str, deployed_by: str) -> DeployedVersion:
    """Check a BPMN file and store it as its process's next version; raise DiagramRefused with the reasons."""
    return deploy(rt, data, source, deployed_by)


def start_process(
    rt: Runtime,
    process_key: str,
    initiator: Actor | int | None,
    data: dict | None = None,
    submit: dict | None = None,
) -> int:
    """Start the newest version of a process as the initiator (an actor, a user id, or nobody).

    With `submit`, the initiator's first step is completed with it in the same transaction, so an
    application is either started and submitted or not stored at all. The pages, the API and the CLI
    all start here, so the start data meets the same checks (engine.tasks.start_data, its subject
    domain.text): raise InvalidCommand or TextRefused when it does not. Someone starting it must sit
    where the diagram's start rule allows (NotAllowed "start_refused" otherwise); nobody (the system) may.
    """

    def body(ctx: CommandContext) -> int:
        starter = initiator
        if isinstance(initiator, int):
            starter = actor_for(ctx.session, initiator) if 0 < initiator <= LARGEST_ID else None
            if starter is None:
                raise InvalidCommand("no_active_user", user_id=initiator)
        if starter is not None:  # a person starts only what the diagram's start rule lets their role start
            permissions.enforce_start(rt, ctx.session, starter, process_key)
        return start_in(ctx, process_key, data, submit=submit, initiator=starter)

    actor = initiator if isinstance(initiator, Actor) else None
    return run_command(rt, "start", actor, body, refusals=(TextRefused,))
