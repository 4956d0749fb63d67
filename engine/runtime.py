"""The runtime: the engine's collaborators, handed over once by the app factory (bootstrap)."""

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from domain.clock import Clock
from domain.clock import system_clock


@dataclass(frozen=True)
class Candidates:
    """Who may work a task: group principals and user ids."""

    groups: tuple[str, ...] = ()
    users: tuple[int, ...] = ()

    def principals(self) -> list[str]:
        """Return every principal, users first."""
        return [f"u:{u}" for u in self.users] + list(self.groups)


CONNECTION_KEY = "ceflow.connection"  # session.info entry: the connection of the unit of work's transaction
CandidateRule = Callable[[Session, dict, int], tuple[tuple[str, ...], tuple[int, ...]]]
Operation = Callable[..., dict | None]


@dataclass
class Runtime:
    """What every engine command needs: the database, the registries, the clock, the spec cache."""

    session_factory: sessionmaker
    operations: Mapping[str, Operation]
    form_keys: frozenset[str]
    candidate_rules: Mapping[str, CandidateRule]
    clock: Clock = system_clock
    script_functions: Mapping[str, Callable] = field(default_factory=dict)
    end_hooks: Mapping[str, Callable] = field(default_factory=dict)
    spec_cache: dict = field(default_factory=dict)
    calendar: object | None = None
    node_name: str = "ceflow"


def bootstrap(
    session_factory: sessionmaker,
    *,
    operations: Mapping[str, Operation],
    form_keys,
    candidate_rules: Mapping[str, CandidateRule],
    clock: Clock = system_clock,
    script_functions: Mapping[str, Callable] | None = None,
    end_hooks: Mapping[str, Callable] | None = None,
    node_name: str = "ceflow",
) -> Runtime:
    """Build the runtime from the collaborators the application chose."""
    return Runtime(
        session_factory=session_factory,
        operations=dict(operations),
        form_keys=frozenset(form_keys),
        candidate_rules=dict(candidate_rules),
        clock=clock,
        script_functions=dict(script_functions or {}),
        end_hooks=dict(end_hooks or {}),
        node_name=node_name,
    )


@contextmanager
def unit_of_work(rt: Runtime, write: bool = True) -> Iterator[Session]:
    """Open one transaction and commit it at the end; the only place the engine commits."""
    # The session owns the transaction (not a connection it joins): domain code hooks its
    # after_commit event, e.g. to send mail only once the notices it wrote are committed.
    session = rt.session_factory()
    try:
        session.info[CONNECTION_KEY] = session.connection(execution_options={"ceflow_write": write})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
