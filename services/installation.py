"""Installation use case: seed the reference data every installation needs, once."""

from pathlib import Path

from domain.calendar.holidays import seed_from_package
from domain.organisations.shipped_regions import seed_regions
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.definitions import seed_bundled

CALENDAR_YEARS = range(2015, 2028)


def initialise_database(rt: Runtime, bpmn_dir: Path | None) -> str:
    """Seed regions, the holiday calendar and version 1 of the bundled diagrams; say what was added.

    The diagrams are deployed one by one after the reference data (each deploy is its own unit of
    work, as in `ceflow deploy`); `bpmn_dir` None seeds no diagram.
    """
    with unit_of_work(rt) as session:
        regions = seed_regions(session)
        years = seed_from_package(session, CALENDAR_YEARS, clock=rt.clock)
    deployed = seed_bundled(rt, bpmn_dir) if bpmn_dir is not None else []
    if rt.calendar is not None:
        rt.calendar.invalidate()
    names = ", ".join(f"{d.process_key} v{d.version}" for d in deployed) or "none new"
    return f"regions added: {regions}; calendar years seeded: {len(years)}; diagrams deployed: {names}"
