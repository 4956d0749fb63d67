"""Time the directory pages over the province data set, as each level of the HRSS and an employer see them.

The directories (R15: an HRSS sees its region and everything below) page by (name, id) and count
per status on every page; these figures say what that costs when a province HRSS looks at about two
million persons, a city HRSS at a tenth of that, a county at a hundredth, an employer at a few dozen.
"""

import statistics
import time

from sqlalchemy import select

from domain.accounts.users import Actor
from domain.organisations.directory import search_organisations
from domain.organisations.records import Organisation
from domain.persons.directory import search_persons

REPEATS = 7
SURNAME = "王"  # the commonest surname of the generator's list: a broad name search


def time_directory(factory, hrss: dict[str, int], province: str, city: str, county: str) -> dict:
    """Return the median milliseconds of each directory case, after one warm-up run of each."""
    with factory() as session:
        employer_id = session.scalar(
            select(Organisation.id).where(Organisation.kind == "employer", Organisation.region_code == county)
        )
        actors = {
            "province": _office(hrss[province], province, "hrss"),
            "city": _office(hrss[city], city, "hrss"),
            "county": _office(hrss[county], county, "hrss"),
            "employer": _office(employer_id, county, "employer"),
        }
        city_page = search_persons(session, actors["city"])
        cases = {
            f"persons_first_page_{who}": (lambda s, a=actor: search_persons(s, a))
            for who, actor in actors.items()
        }
        cases.update(
            persons_next_page_city=lambda s: search_persons(s, actors["city"], after=city_page.next_cursor),
            persons_name_search_city=lambda s: search_persons(s, actors["city"], q=SURNAME),
            persons_name_search_province=lambda s: search_persons(s, actors["province"], q=SURNAME),
            persons_id_prefix_province=lambda s: search_persons(s, actors["province"], q=city[:4]),
            persons_status_filter_city=lambda s: search_persons(s, actors["city"], status="pending"),
            organisations_first_page_province=lambda s: search_organisations(s, actors["province"]),
            organisations_name_search_city=lambda s: search_organisations(s, actors["city"], q="医院"),
        )
        return {name: _median_ms(session, case) for name, case in cases.items()}


def _office(organisation_id: int, region: str, kind: str) -> Actor:
    return Actor(
        id=0,
        name="bench",
        principals=(),
        region_code=region,
        organisation_id=organisation_id,
        organisation_kind=kind,
    )


def _median_ms(session, case) -> float:
    case(session)
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        case(session)
        times.append((time.perf_counter() - started) * 1000)
    session.rollback()
    return round(statistics.median(times), 2)
