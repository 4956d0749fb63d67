"""First-start set-up: the reference data every installation needs."""

from pathlib import Path

from domain.calendar.holidays import seed_from_package
from domain.organisations.shipped_regions import seed_regions
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.definitions import seed_bundled

CALENDAR_YEARS = range(2015, 2028)


def initialise_database(rt: Runtime, config) -> str:
    """Seed regions, the holiday calendar and version 1 of the bundled diagrams; say what was added."""
    with unit_of_work(rt) as session:
        regions = seed_regions(session)
        years = seed_from_package(session, CALENDAR_YEARS, clock=rt.clock)
    deployed = seed_bundled(rt, Path(config["BPMN_DIR"])) if config["SEED_BPMN"] else []
    if rt.calendar is not None:
        rt.calendar.invalidate()
    names = ", ".join(f"{d.process_key} v{d.version}" for d in deployed) or "none new"
    return f"regions added: {regions}; calendar years seeded: {len(years)}; diagrams deployed: {names}"
