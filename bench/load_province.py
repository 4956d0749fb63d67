"""Build a province-sized data set and time it: `python bench/load_province.py [--quick]`.

Loads a Henan-shaped province (the province HRSS, 17 cities, 10 counties each) with 100,000
organisations and about 2 million professionals, each with a login, a certificate number from an
allocated range and a valid ID number; then times the weekly supervision-notice job over it and the
directory pages each level of the HRSS and an employer open (bench/directory_pages.py). The last
line printed is one JSON object. With --quick it loads one city (about 20,000 persons).
"""

import argparse
import json
import sys
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # run as a script: don't let bench/engine.py shadow the engine package

from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench import stores  # noqa: E402
from bench.bulk_rows import analyze  # noqa: E402
from bench.directory_pages import time_directory  # noqa: E402
from bench.stores import StoreUnavailable  # noqa: E402
from bench.stores import fresh_database  # noqa: E402
from domain.calendar.policy import NOTICE_2015  # noqa: E402
from domain.calendar.policy import save_policy  # noqa: E402
from domain.organisations.records import Region  # noqa: E402
from domain.persons.records import Person  # noqa: E402
from domain.supervision.notices import produce_supervision_notices  # noqa: E402
from domain.supervision.notices import supervision_period  # noqa: E402
from seed.population import PopulationPlan  # noqa: E402
from seed.population import add_hrss_offices  # noqa: E402
from seed.population import populate  # noqa: E402

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
stores.POSTGRES_SCHEMA = "bench_province"  # not the engine benchmark's schema: both may run at once
PROVINCE = "410000"


def province_regions(cities: int, counties_per_city: int) -> list[tuple[str, str, str, str | None]]:
    """Return (code, name, level, parent) for a province shaped like Henan."""
    rows = [(PROVINCE, "河南省", "province", None)]
    for city in range(1, cities + 1):
        city_code = f"41{city:02d}00"
        rows.append((city_code, f"第{city}市", "city", PROVINCE))
        rows += [
            (f"41{city:02d}{county:02d}", f"第{city}市第{county}县", "county", city_code)
            for county in range(2, 2 + counties_per_city)
        ]
    return rows


def load(session, regions, plan: PopulationPlan) -> dict:
    """Insert regions, one HRSS per region, and the population; return counts and seconds."""
    started = time.perf_counter()
    for code, name, level, parent in regions:
        session.add(Region(code=code, name=name, level=level, parent_code=parent))
    session.flush()
    hrss = add_hrss_offices(session, regions, NOW, "人社局")
    counties = [code for code, _n, level, _p in regions if level == "county"]
    report = populate(session, counties, hrss, plan, NOW, "argon2-not-a-real-hash")
    for city in (code for code, _n, level, _p in regions if level == "city"):
        seed_policy_2015_for(session, city)
    session.commit()
    return {
        "seconds": time.perf_counter() - started,
        "hrss": hrss,
        "organisations": report.organisations + len(hrss),
        "persons": report.persons,
        "late_employers": report.late_employers,
    }


def seed_policy_2015_for(session, city: str) -> None:
    """Give every city the Pingdingshan calendar (the notice's dates), so deadlines apply everywhere."""
    year = NOW.year
    values = {
        name: datetime(year, *value).date() if isinstance(value, tuple) else value
        for name, value in NOTICE_2015.items()
    }
    save_policy(session, year, city, values, "bench", NOW)


def time_supervision(factory) -> dict:
    """Run the supervision-notice job once over the data set; return its seconds and output size."""
    with factory() as session:
        started = time.perf_counter()
        produced = produce_supervision_notices(session, supervision_period(NOW), NOW)
        session.commit()
        seconds = time.perf_counter() - started
        persons = session.scalar(select(func.count()).select_from(Person))
    return {"seconds": seconds, "notices": len(produced), "persons_checked": persons}


def run(store: str, quick: bool) -> dict:
    """Load the province into a fresh database of the store and time the supervision job."""
    cities, counties = (1, 10) if quick else (17, 10)
    plan = PopulationPlan(
        authorities_per_region=12,
        employers_per_region=100 if quick else 574,
        institutions_per_region=2,
        persons_per_employer=(6, 38),
        late_share=0.15,
    )
    with fresh_database(store) as db:
        factory = sessionmaker(bind=db)
        with factory() as session:
            loaded = load(session, province_regions(cities, counties), plan)
        print(
            f"{store}: loaded {loaded['organisations']} organisations and {loaded['persons']} persons "
            f"in {loaded['seconds']:.1f} s",
            flush=True,
        )
        analyze(db)  # statistics, as autovacuum gathers them soon after a load
        supervision = time_supervision(factory)
        print(
            f"{store}: supervision notices: {supervision['notices']} in {supervision['seconds']:.2f} s",
            flush=True,
        )
        directory = time_directory(factory, loaded["hrss"], PROVINCE, "410100", "410102")
        print(f"{store}: directory pages (median ms): {directory}", flush=True)
    return {"load": loaded, "supervision": supervision, "directory": directory}


def main() -> None:
    """Parse the options, run each store, and print the JSON figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one city instead of seventeen (under 30 s)")
    parser.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    args = parser.parse_args()
    figures = {"quick": args.quick}
    for store in args.stores.split(","):
        try:
            result = run(store, args.quick)
        except StoreUnavailable as unavailable:
            figures[f"{store}_skipped"] = str(unavailable)
            continue
        figures[f"{store}_load_seconds"] = round(result["load"]["seconds"], 2)
        figures[f"{store}_organisations"] = result["load"]["organisations"]
        figures[f"{store}_persons"] = result["load"]["persons"]
        figures[f"{store}_persons_per_s"] = round(result["load"]["persons"] / result["load"]["seconds"])
        figures[f"{store}_supervision_seconds"] = round(result["supervision"]["seconds"], 3)
        figures[f"{store}_supervision_notices"] = result["supervision"]["notices"]
        figures.update({f"{store}_{case}_ms": ms for case, ms in result["directory"].items()})
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
