"""Policy calendar use case: save a city's deadlines and hour minimums for a year."""

from domain.accounts.users import Actor
from domain.calendar.policy import save_policy
from engine.runtime import Runtime
from engine.runtime import unit_of_work


def save_city_policy(
    rt: Runtime, actor: Actor, year: int, city_code: str, values: dict, confirmed: str | None = None
) -> None:
    """Create or change a city's policy calendar of a year; raise PolicyError listing every problem.

    Implausible values raise PolicyUnconfirmed until `confirmed` is the key of their warnings.
    """
    with unit_of_work(rt) as session:
        save_policy(session, year, city_code, values, actor.name, rt.clock(), confirmed=confirmed)
