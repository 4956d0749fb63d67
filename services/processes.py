"""Process use cases: deploy a diagram as a new version, start a process (and submit its first step)."""

from domain.accounts.users import Actor
from domain.accounts.users import actor_for
from engine.errors import InvalidCommand
from engine.runtime import Runtime
from engine.runtime.command import run_command
from engine.runtime.context import CommandContext
from engine.runtime.definitions import DeployedVersion
from engine.runtime.definitions import deploy
from engine.tasks.commands import start_in


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
    application is either started and submitted or not stored at all.
    """

    def body(ctx: CommandContext) -> int:
        starter = initiator
        if isinstance(initiator, int):
            starter = actor_for(ctx.session, initiator)
            if starter is None:
                raise InvalidCommand(f"User {initiator} does not exist or is not active.")
        return start_in(ctx, process_key, data, submit=submit, initiator=starter)

    return run_command(rt, "start", initiator if isinstance(initiator, Actor) else None, body)
