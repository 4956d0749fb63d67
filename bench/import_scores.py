"""Validate and credit a 100 000-row score file: `python bench/import_scores.py [--database-url URL]`.

Builds an approved course of a county CE base with N persons enrolled (bulk rows, as load_province
does), writes their results as one .xlsx file, then times the two halves of R8 on each store: the
institution's upload (read, every row checked in bulk queries, rows stored, the review started) and
the HRSS's approval (every enrolment credited in one transaction). Prints seconds and the process's
peak memory after each half; the last line is one JSON object. Target: under 30 s each, under 500 MB.
"""

import argparse
import io
import json
import resource
import sys
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # run as a script: don't let bench/engine.py shadow the engine package

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench import stores  # noqa: E402
from bench.bulk_rows import analyze  # noqa: E402
from bench.stores import StoreUnavailable  # noqa: E402
from bench.stores import fresh_database  # noqa: E402
from domain.accounts.users import User  # noqa: E402
from domain.accounts.users import actor_for  # noqa: E402
from domain.calendar.holidays import seed_from_package  # noqa: E402
from domain.calendar.policy import seed_policy_2015  # noqa: E402
from domain.courses.enrolment import Enrolment  # noqa: E402
from domain.courses.score_files import HEADERS  # noqa: E402
from domain.files import DatabaseFileStore  # noqa: E402
from domain.organisations.records import Organisation  # noqa: E402
from domain.organisations.shipped_regions import seed_regions  # noqa: E402
from engine.runtime.definitions import deploy  # noqa: E402
from engine.runtime.models import HumanTask  # noqa: E402
from engine.tasks.commands import complete_task  # noqa: E402
from seed.courses import enrolled_course  # noqa: E402
from services.scores import submit_score_file  # noqa: E402
from webapp.wiring import build_runtime  # noqa: E402

NOW = datetime(2025, 11, 3, 2, 0, tzinfo=UTC)
DONE = date(2025, 6, 30)
DIAGRAM = ROOT / "workflows" / "bpmn" / "score_submission.bpmn"
stores.POSTGRES_SCHEMA = "bench_scores"  # apart from the other benchmarks' schemas


def peak_mb() -> float:
    """Return the process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_runtime(db):
    """Wire the runtime as the web app does (fixed clock) and deploy the score submission diagram."""
    rt = build_runtime({"NODE_NAME": "bench"}, db, clock=lambda: NOW)
    deploy(rt, DIAGRAM.read_bytes(), DIAGRAM.name, "bench")
    return rt


def build(factory, rows: int):
    """Write the reference data, the city HRSS's reviewer and the course with `rows` persons enrolled."""
    with factory() as session, session.begin():
        seed_regions(session)
        seed_from_package(session, range(2025, 2026), clock=lambda: NOW)
        seed_policy_2015(session, NOW)
        hrss = Organisation(kind="hrss", name="平顶山市人社局", region_code="410400", created_at=NOW)
        session.add(hrss)
        session.flush()
        reviewer = User(
            username="410400-reviewer",
            password_hash="x",
            display_name="市人社局审核员",
            organisation_id=hrss.id,
            roles="reviewer",
            created_at=NOW,
        )
        session.add(reviewer)
        session.flush()
        course = enrolled_course(
            session, region_code="410422", persons=rows, now=NOW, institution="叶县继续教育基地"
        )
        return course, reviewer.id


def score_file(persons) -> bytes:
    """Write every enrolled person's result as one .xlsx file (write-only: rows are streamed out)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("成绩")
    sheet.append(list(HEADERS))
    for _pid, number, name in persons:
        sheet.append([number, name, 86, "合格", 12, DONE])  # a date cell, as Excel stores one
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(store: str, rows: int) -> dict:
    """Build the course in a fresh database of the store, then time the upload and the approval."""
    with fresh_database(store) as db:
        factory = sessionmaker(bind=db, expire_on_commit=False)
        started = time.perf_counter()
        course, reviewer_id = build(factory, rows)
        data = score_file(course.persons)
        analyze(db)
        rt = make_runtime(db)
        built = time.perf_counter() - started
        print(
            f"{store}: {rows} persons enrolled and a {len(data) / 1e6:.1f} MB file in {built:.1f} s",
            flush=True,
        )
        with factory() as session:
            institution_admin = actor_for(session, course.admin_user_id)
            reviewer = actor_for(session, reviewer_id)
        course_id = course.course_id
        del course  # the persons' list: the upload must not lean on it
        before = peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        accepted = submit_score_file(
            rt, institution_admin, course_id, "成绩.xlsx", data, DatabaseFileStore(), _code
        )
        validate, validate_cpu = time.perf_counter() - started, time.process_time() - cpu
        validate_peak = peak_mb()
        print(
            f"{store}: accepted {accepted.rows} rows in {validate:.1f} s ({validate_cpu:.1f} s CPU), "
            f"peak {validate_peak:.0f} MB"
        )
        with factory() as session:
            task_id = session.scalar(
                select(HumanTask.id).where(
                    HumanTask.instance_id == accepted.instance_id, HumanTask.state == "open"
                )
            )
        started, cpu = time.perf_counter(), time.process_time()
        complete_task(rt, reviewer, task_id, {}, "同意")
        credit, credit_cpu = time.perf_counter() - started, time.process_time() - cpu
        credit_peak = peak_mb()
        with factory() as session:
            credited = session.scalar(
                select(func.count()).select_from(Enrolment).where(Enrolment.credited_at.is_not(None))
            )
        print(
            f"{store}: credited {credited} enrolments in {credit:.1f} s, peak {credit_peak:.0f} MB",
            flush=True,
        )
    return {
        "rows": rows,
        "file_mb": round(len(data) / 1e6, 2),
        "validate_seconds": round(validate, 2),
        "credit_seconds": round(credit, 2),
        "validate_cpu_seconds": round(validate_cpu, 2),
        "credit_cpu_seconds": round(credit_cpu, 2),
        "peak_mb_before": round(before),
        "peak_mb_after_validate": round(validate_peak),
        "peak_mb_after_credit": round(credit_peak),
        "credited": credited,
    }


def _code(code: str, params: dict) -> str:
    return code  # a clean file has no problems to word


def main() -> None:
    """Parse the options, run each store, and print the JSON figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="persons enrolled and rows in the file")
    parser.add_argument("--quick", action="store_true", help="10 000 rows (under 30 s)")
    parser.add_argument("--stores", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument(
        "--database-url",
        default=stores.POSTGRES_URL,
        help="the PostgreSQL database to use (a schema bench_scores is made in it and dropped after)",
    )
    args = parser.parse_args()
    stores.POSTGRES_URL = args.database_url
    rows = 10_000 if args.quick else args.rows
    figures: dict = {}
    for store in args.stores.split(","):
        try:
            figures[store] = run(store, rows)
        except StoreUnavailable as unavailable:
            figures[f"{store}_skipped"] = str(unavailable)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
