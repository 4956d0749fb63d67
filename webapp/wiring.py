"""Bootstrap: hand the engine its collaborators (handlers, form keys, candidate rules, clock, calendar)."""

import threading

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from domain.calendar.deadlines import working_days_function
from domain.calendar.holidays import WorkingCalendar
from domain.calendar.policy import policy_deadline_function
from domain.calendar.policy import review_days_function
from engine.runtime import Runtime
from engine.runtime import bootstrap
from forms.catalog import form_catalog
from handlers.candidates import candidate_rules
from handlers.operations import end_hooks
from handlers.operations import operations
from infra.clock import system_clock
from infra.database import configure_sqlite


class CalendarCache:
    """The holiday calendar, loaded once and reloaded after an admin edits it."""

    def __init__(self, session_factory: sessionmaker):
        self._session_factory = session_factory
        self._calendar: WorkingCalendar | None = None
        self._lock = threading.Lock()

    def __call__(self) -> WorkingCalendar:
        with self._lock:
            if self._calendar is None:
                with self._session_factory() as session:
                    self._calendar = WorkingCalendar.load(session)
            return self._calendar

    def invalidate(self) -> None:
        """Forget the loaded calendar; the next deadline reads it again."""
        with self._lock:
            self._calendar = None


def build_runtime(config, engine: Engine, clock=system_clock) -> Runtime:
    """Create the engine runtime over a database engine."""
    configure_sqlite(engine)
    session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    calendar = CalendarCache(session_factory)
    runtime = bootstrap(
        session_factory,
        operations=operations(),
        form_keys=form_catalog().keys(),
        candidate_rules=candidate_rules(),
        clock=clock,
        script_functions={
            "working_days": working_days_function(calendar),
            "policy_deadline": policy_deadline_function(session_factory),
            "review_days": review_days_function(session_factory),
        },
        end_hooks=end_hooks(),
        node_name=config["NODE_NAME"],
    )
    runtime.calendar = calendar
    return runtime
