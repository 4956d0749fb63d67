"""Holiday calendar use cases: preview and save a year's schedule, moving open tasks' due dates with it."""

from datetime import date

from domain.accounts.users import Actor
from domain.calendar.holidays import WorkingCalendar
from domain.calendar.holidays import check_year_schedule
from domain.calendar.holidays import set_year_schedule
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.runtime.due_dates import MovedDue
from engine.runtime.due_dates import move_due_dates
from engine.runtime.due_dates import moved_due_dates


def preview_year_schedule(
    rt: Runtime, year: int, holidays: dict[date, str], workdays: dict[date, str]
) -> list[MovedDue]:
    """Check a year's schedule and return the open tasks whose due dates saving it would move."""
    check_year_schedule(year, holidays, workdays)
    with unit_of_work(rt, write=False) as session:
        old = WorkingCalendar.load(session)
        return moved_due_dates(session, year, old, old.with_year(year, holidays, workdays))


def save_year_schedule(
    rt: Runtime, actor: Actor, year: int, holidays: dict[date, str], workdays: dict[date, str]
) -> list[MovedDue]:
    """Replace a year's schedule and move the open tasks' due dates with it, audited; return those moved."""
    now = rt.clock()
    with unit_of_work(rt) as session:
        old = WorkingCalendar.load(session)
        set_year_schedule(session, year, holidays, workdays, by=actor.name, now=now)
        moved = moved_due_dates(session, year, old, old.with_year(year, holidays, workdays))
        move_due_dates(session, moved, actor.id, actor.name, now)
    if rt.calendar is not None:
        rt.calendar.invalidate()
    return moved
