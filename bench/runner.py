"""Measure raw SpiffWorkflow, then CE Flow's runtime on each store; print lines, then the JSON figures."""

import cProfile
import os
import pstats
import time
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select

from bench.approval import RawFlow
from bench.approval import run_runtime_instance
from bench.common import Measurement
from bench.common import parse_options
from bench.common import print_result
from bench.common import rounded
from bench.same_writes import SameWritesFlow
from bench.stores import StoreUnavailable
from bench.stores import describe
from bench.stores import fresh_database
from bench.stores import make_runtime
from engine.runtime import Runtime
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance

QUICK_INSTANCES = 200
FULL_INSTANCES = 3000
WARMUP_INSTANCES = 20
RAW_MIN_INSTANCES = 1000  # raw is ~10x faster: a longer loop keeps its figure, the ratios' base, steady
QUICK_SECONDS_PER_STORE = 7.0  # --quick stops a store's loop here, so the whole run stays under 30 s
PROFILE_INSTANCES = 500
PROFILE_TOP = 30
PROFILE_FILE = Path(__file__).resolve().parent / "out" / "engine-sqlite.prof"
TARGET_SQLITE_PER_S = 200
TARGET_RATIO = 0.6


def run() -> None:
    """Run every measurement the options ask for and print the figures."""
    options = parse_options(__doc__, QUICK_INSTANCES, FULL_INSTANCES)
    count = options.instances
    budget = QUICK_SECONDS_PER_STORE if options.quick else None
    load = os.getloadavg()
    print(f"{count} instances per measurement (+{WARMUP_INSTANCES} warm-up); load average {load[0]:.2f}")
    result: dict = {"instances": count, "quick": options.quick, "load_average_1m": rounded(load[0])}
    raw = measure_raw(max(count, RAW_MIN_INSTANCES))
    _print_line("raw SpiffWorkflow (in-memory round trips)", raw)
    result["raw_instances"] = raw.instances
    result["raw_instances_per_s"] = rounded(raw.per_second(), 1)
    result["raw_instances_per_cpu_s"] = rounded(raw.per_cpu_second(), 1)
    result["raw_ms_per_command_median"] = rounded(raw.median_ms("start", "complete"), 3)
    for store in options.stores:
        try:
            measured = measure_store(store, count, budget)
        except StoreUnavailable as error:
            print(f"{store}: skipped: {error}")
            result[f"{store}_skipped"] = str(error)
            continue
        _record(result, store, measured, raw)
        if options.same_writes:
            _record_same_writes(result, store, measure_same_writes(store, count, budget), measured, raw)
    if options.profile:
        profile_sqlite(min(count, PROFILE_INSTANCES))
    _judge(result)
    print_result(result)


def measure_raw(count: int) -> Measurement:
    """Run the flow in plain SpiffWorkflow, after a warm-up."""
    flow = RawFlow()
    for _ in range(WARMUP_INSTANCES):
        flow.run_instance(Measurement())
    measured = Measurement()
    with measured.loop():
        for _ in range(count):
            flow.run_instance(measured)
    return measured


def measure_store(store: str, count: int, budget: float | None) -> Measurement:
    """Run the flow through the runtime on a fresh database, after a warm-up, for up to `budget` seconds."""
    with fresh_database(store) as db:
        print(f"{store}: {describe(db)}")
        rt = make_runtime(db)
        for _ in range(WARMUP_INSTANCES):
            run_runtime_instance(rt, Measurement())
        measured = Measurement()
        with measured.loop():
            deadline = time.perf_counter() + budget if budget else None
            for _ in range(count):
                run_runtime_instance(rt, measured)
                if deadline and time.perf_counter() > deadline:
                    print(f"{store}: --quick time budget reached after {measured.instances} instances")
                    break
        _check_all_ended(rt, WARMUP_INSTANCES + measured.instances)
    _print_line(f"CE Flow runtime on {store}", measured)
    return measured


def measure_same_writes(store: str, count: int, budget: float | None) -> Measurement:
    """Run raw SpiffWorkflow with the runtime's statements through the bare driver, on a fresh database."""
    with fresh_database(store) as db:
        rt = make_runtime(db)  # creates the definition row the flow looks up
        raw_connection = db.raw_connection()
        try:
            flow = SameWritesFlow(raw_connection.driver_connection, db.dialect.name)
            for _ in range(WARMUP_INSTANCES):
                flow.run_instance(Measurement())
            measured = Measurement()
            with measured.loop():
                deadline = time.perf_counter() + budget if budget else None
                for _ in range(count):
                    flow.run_instance(measured)
                    if deadline and time.perf_counter() > deadline:
                        break
        finally:
            raw_connection.close()
        _check_all_ended(rt, WARMUP_INSTANCES + measured.instances)
    _print_line(f"raw SpiffWorkflow + the same SQL on {store} (bare driver)", measured)
    return measured


def profile_sqlite(count: int) -> None:
    """Run the runtime loop on SQLite under cProfile; print the top functions by cumulative time."""
    with fresh_database("sqlite") as db:
        rt = make_runtime(db)
        for _ in range(WARMUP_INSTANCES):
            run_runtime_instance(rt, Measurement())
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            run_runtime_instance(rt, Measurement())
        profiler.disable()
    PROFILE_FILE.parent.mkdir(exist_ok=True)
    profiler.dump_stats(PROFILE_FILE)
    print(f"cProfile of {count} instances on SQLite (saved to {PROFILE_FILE}):")
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(PROFILE_TOP)


def _check_all_ended(rt: Runtime, expected: int) -> None:
    """Fail loudly unless every instance completed and no inbox row is left open."""
    with rt.session_factory() as session:
        statuses = dict(
            session.execute(
                select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)
            ).all()
        )
        still_open = session.scalar(select(func.count()).where(HumanTask.state == "open"))
    if statuses != {"completed": expected} or still_open:
        found = f"{statuses} and {still_open} open tasks"
        raise RuntimeError(f"expected {expected} completed instances, found {found}")


def _record(result: dict, store: str, measured: Measurement, raw: Measurement) -> None:
    result[f"{store}_instances"] = measured.instances
    result[f"{store}_instances_per_s"] = rounded(measured.per_second(), 1)
    result[f"{store}_instances_per_cpu_s"] = rounded(measured.per_cpu_second(), 1)
    ratio = measured.per_second() / raw.per_second()
    result["ratio_vs_raw" if store == "sqlite" else f"{store}_ratio_vs_raw"] = rounded(ratio, 3)
    result[f"{store}_ms_per_command_median"] = rounded(measured.median_ms("start", "complete"), 3)
    result[f"{store}_ms_start_median"] = rounded(measured.median_ms("start"), 3)
    result[f"{store}_ms_complete_median"] = rounded(measured.median_ms("complete"), 3)
    result[f"{store}_ms_inbox_query_median"] = rounded(measured.median_ms("inbox"), 3)
    # the loop's own inbox lookups are not engine commands: how fast the commands alone went
    commands_s = (
        sum(measured.steps_ms.get("start", ())) / 1000 + sum(measured.steps_ms.get("complete", ())) / 1000
    )
    result[f"{store}_commands_only_instances_per_s"] = rounded(measured.instances / commands_s, 1)
    cpu_ratio = measured.per_cpu_second() / raw.per_cpu_second()
    result[f"{store}_cpu_ratio_vs_raw"] = rounded(cpu_ratio, 3)
    print(f"  ratio to raw: {ratio:.3f} by wall time, {cpu_ratio:.3f} by this process's CPU time")


def _record_same_writes(result: dict, store: str, same: Measurement, measured: Measurement, raw: Measurement):
    result[f"{store}_same_writes_instances_per_s"] = rounded(same.per_second(), 1)
    result[f"{store}_same_writes_instances_per_cpu_s"] = rounded(same.per_cpu_second(), 1)
    result[f"{store}_same_writes_ratio_vs_raw"] = rounded(same.per_second() / raw.per_second(), 3)
    result[f"{store}_same_writes_ms_per_command_median"] = rounded(same.median_ms("start", "complete"), 3)
    share = measured.per_second() / same.per_second()
    result[f"{store}_runtime_vs_same_writes"] = rounded(share, 3)
    alone = same.per_second() / raw.per_second()
    print(f"  the same SQL alone reaches {alone:.3f} of raw; the runtime {share:.3f} of it")


def _judge(result: dict) -> None:
    """Say whether the issue's targets are met (per core: the loop runs on one thread)."""
    checks = []
    if "sqlite_instances_per_s" in result:
        checks.append(result["sqlite_instances_per_s"] >= TARGET_SQLITE_PER_S)
        checks.append(result["ratio_vs_raw"] >= TARGET_RATIO)
        print(
            f"targets: >= {TARGET_SQLITE_PER_S} instances/s on SQLite, ratio >= {TARGET_RATIO}: "
            + ("met" if all(checks) else "NOT met")
        )
    result["targets_met"] = bool(checks) and all(checks)


def _print_line(label: str, measured: Measurement) -> None:
    print(
        f"{label}: {measured.per_second():.1f} instances/s, "
        f"median {measured.median_ms('start'):.2f} ms start, "
        f"{measured.median_ms('complete'):.2f} ms complete"
        + (f", {measured.median_ms('inbox'):.2f} ms inbox query" if "inbox" in measured.steps_ms else "")
        + f"; {measured.seconds:.2f} s wall, CPU {measured.cpu_share():.0%} of one core"
        + f" ({measured.per_cpu_second():.1f} instances per CPU second)"
    )
