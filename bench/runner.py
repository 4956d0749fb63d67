"""Measure CE Flow's runtime on each store against raw SpiffWorkflow, and workers against one; print figures.

Every comparison alternates its two sides (raw, runtime, raw, runtime…; one worker, N workers…) and
quotes the median of the pairs' ratios, so a machine shared with other work slows both sides alike.
"""

import argparse
import cProfile
import math
import os
import pstats
import statistics
import time
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select

from bench.approval import RawFlow
from bench.approval import count_decisions
from bench.approval import run_runtime_instance
from bench.common import Measurement
from bench.common import parse_options
from bench.common import print_result
from bench.common import rounded
from bench.same_writes import SameWritesFlow
from bench.stores import POSTGRES_URL
from bench.stores import ServerClock
from bench.stores import StoreUnavailable
from bench.stores import describe
from bench.stores import fresh_database
from bench.stores import make_runtime
from bench.workers import Workers
from engine.runtime import Runtime
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance

QUICK_INSTANCES = 200
FULL_INSTANCES = 3000
WARMUP_INSTANCES = 20
PAIRS = 10  # the two sides alternate: a ratio is the median of the pairs', whatever else the machine does
QUICK_PAIRS = 4
QUICK_SECONDS_PER_STORE = 7.0  # --quick stops a store's loop here, so the whole run stays under 30 s
PROFILE_INSTANCES = 500
PROFILE_TOP = 30
PROFILE_FILE = Path(__file__).resolve().parent / "out" / "engine-sqlite.prof"
TARGET_SQLITE_PER_S = 200
TARGET_RATIO = 0.6
TARGET_POSTGRES_RATIO = 0.45
TARGET_WORKERS_GAIN = 2.0  # 4 workers together against one


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add this benchmark's own options: the PostgreSQL database, the workers, the pairs."""
    parser.add_argument(
        "--database-url",
        default=POSTGRES_URL,
        help="PostgreSQL database to run in (its schema 'bench' is made afresh and dropped); "
        f"default $BENCH_POSTGRES_URL or {POSTGRES_URL}",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also run N worker processes at once against the PostgreSQL database, alternating with "
        "one worker alone, and count every instance's decisions afterwards (default 0: not run)",
    )
    parser.add_argument(
        "--synchronous-commit",
        choices=("on", "off"),
        help="PostgreSQL's synchronous_commit for the benchmark's connections (default: the server's); "
        "off shows the runtime's own cost when a commit does not wait for the disk",
    )
    parser.add_argument(
        "--pairs", type=int, help=f"alternating pairs per comparison (default {PAIRS}, --quick {QUICK_PAIRS})"
    )


def run() -> None:
    """Run every measurement the options ask for and print the figures."""
    options = parse_options(__doc__, QUICK_INSTANCES, FULL_INSTANCES, add_options)
    count = options.instances
    pairs = options.pairs or (QUICK_PAIRS if options.quick else PAIRS)
    budget = QUICK_SECONDS_PER_STORE if options.quick else None
    load = os.getloadavg()
    print(
        f"{count} instances per measurement (+{WARMUP_INSTANCES} warm-up) in {pairs} alternating pairs; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
    )
    result: dict = {"instances": count, "quick": options.quick, "load_average_1m": rounded(load[0])}
    flow = RawFlow()
    for _ in range(WARMUP_INSTANCES):
        flow.run_instance(Measurement())
    raw_all = Measurement()
    for store in options.stores:
        try:
            measured, raw, ratios = measure_store(store, count, budget, pairs, flow, options)
        except StoreUnavailable as error:
            print(f"{store}: skipped: {error}")
            result[f"{store}_skipped"] = str(error)
            continue
        raw_all.add(raw)
        _record(result, store, measured, raw, ratios)
        if options.same_writes:
            same = measure_same_writes(store, count, budget, options)
            _record_same_writes(result, store, same, measured, raw)
    if raw_all.instances:
        _print_line("raw SpiffWorkflow (in-memory round trips), all its loops", raw_all)
        result["raw_instances"] = raw_all.instances
        result["raw_instances_per_s"] = rounded(raw_all.per_second(), 1)
        result["raw_instances_per_cpu_s"] = rounded(raw_all.per_cpu_second(), 1)
        result["raw_ms_per_command_median"] = rounded(raw_all.median_ms("start", "complete"), 3)
    if options.workers:
        try:
            measure_workers(result, options, count, pairs)
        except StoreUnavailable as error:
            print(f"workers: skipped: {error}")
            result["workers_skipped"] = str(error)
    if options.profile:
        profile_sqlite(min(count, PROFILE_INSTANCES))
    _judge(result)
    print_result(result)


def measure_store(
    store: str, count: int, budget: float | None, pairs: int, flow: RawFlow, options: argparse.Namespace
) -> tuple[Measurement, Measurement, list[float]]:
    """Run the flow through the runtime on a fresh database and raw, in alternating loops.

    Returns the runtime's loops, raw's loops and each pair's ratio (runtime to raw instances per
    second): a machine busy with other work slows both sides of a pair alike.
    """
    with fresh_database(store, options.database_url, options.synchronous_commit) as db:
        print(f"{store}: {describe(db)}")
        rt = make_runtime(db)
        server = ServerClock(db)
        for _ in range(WARMUP_INSTANCES):
            run_runtime_instance(rt, Measurement())
        measured, raw, ratios = Measurement(), Measurement(), []
        chunk = max(1, math.ceil(count / pairs))
        deadline = time.perf_counter() + budget if budget else None
        while measured.instances < count:
            size = min(chunk, count - measured.instances)
            raw_loop = _loop(flow.run_instance, size)
            server_before = server.seconds()
            runtime_loop = _loop(lambda m: run_runtime_instance(rt, m), size)
            if server_before is not None:
                runtime_loop.server_cpu_seconds = server.seconds() - server_before
            ratios.append(runtime_loop.per_second() / raw_loop.per_second())
            raw.add(raw_loop)
            measured.add(runtime_loop)
            if deadline and time.perf_counter() > deadline:
                print(f"{store}: --quick time budget reached after {measured.instances} instances")
                break
        _check_all_ended(rt, WARMUP_INSTANCES + measured.instances)
    _print_line(f"CE Flow runtime on {store}", measured)
    _print_line(f"raw SpiffWorkflow, the loops paired with {store}'s", raw)
    return measured, raw, ratios


def _loop(run_instance, count: int) -> Measurement:
    """Time `count` instances of a flow."""
    measured = Measurement()
    with measured.loop():
        for _ in range(count):
            run_instance(measured)
    return measured


def measure_workers(result: dict, options: argparse.Namespace, count: int, pairs: int) -> None:
    """Run one worker alone, then `workers` at once, in alternating rounds on one PostgreSQL database.

    Each round gives every busy worker the same share, so N workers run N times the instances of
    one; afterwards every instance's decisions are counted in the database.
    """
    share = max(1, math.ceil(count / pairs))
    url, workers, synchronous_commit = options.database_url, options.workers, options.synchronous_commit
    with fresh_database("postgres", url, synchronous_commit) as db:
        rt = make_runtime(db)  # deploys the diagram once, for every worker
        print(f"workers: {workers} processes, each its own engine and connection, on {describe(db)}")
        pool = Workers(url, workers, synchronous_commit)
        try:
            pool.run(WARMUP_INSTANCES, workers)
            ran, one, many, ratios = WARMUP_INSTANCES * workers, [], [], []
            for _ in range(pairs):
                alone, together = pool.run(share, 1), pool.run(share, workers)
                one.append(alone)
                many.append(together)
                ratios.append(together.per_second() / alone.per_second())
                ran += alone.instances + together.instances
        finally:
            pool.close()
        decisions = count_decisions(rt, ran)
    one_per_s = sum(r.instances for r in one) / sum(r.seconds for r in one)
    many_per_s = sum(r.instances for r in many) / sum(r.seconds for r in many)
    gain = statistics.median(ratios)
    print(f"1 worker: {one_per_s:.1f} instances/s; {workers} workers together: {many_per_s:.1f} instances/s")
    print(
        f"  {workers} workers to 1: {gain:.2f} (median of {len(ratios)} alternating pairs, "
        f"{min(ratios):.2f} to {max(ratios):.2f})"
    )
    _print_cores(result, one, many, workers)
    print(decisions.describe())
    result["workers"] = workers
    result["workers_1_instances_per_s"] = rounded(one_per_s, 1)
    result[f"workers_{workers}_instances_per_s"] = rounded(many_per_s, 1)
    result["workers_gain"] = rounded(gain, 3)
    result["workers_gain_min"] = rounded(min(ratios), 3)
    result["workers_gain_max"] = rounded(max(ratios), 3)
    result["workers_instances"] = decisions.instances
    result["workers_decisions"] = decisions.decisions
    result["workers_decisions_exact"] = decisions.exact


def _print_cores(result: dict, one: list, many: list, workers: int) -> None:
    """Print how many of the machine's processors one worker kept busy, and what that allows N to gain.

    A worker's instance costs its own CPU, the server's and the rest: if one worker alone keeps
    `c` of the machine's `k` processors busy, no number of workers can run more than k / c times
    as many instances per second on this machine.
    """
    if any(r.busy_cores is None for r in one + many):
        return
    alone = statistics.median(r.busy_cores for r in one)
    together = statistics.median(r.busy_cores for r in many)
    cpus = os.cpu_count() or 1
    result["workers_1_busy_cores"] = rounded(alone, 2)
    result[f"workers_{workers}_busy_cores"] = rounded(together, 2)
    result["workers_gain_bound_cpus"] = rounded(cpus / alone, 2)
    print(
        f"  the machine's {cpus} processors busy (every process, server included): {alone:.2f} with 1 "
        f"worker, {together:.2f} with {workers}: at most {cpus / alone:.2f} x one worker on this machine"
    )


def measure_same_writes(store: str, count: int, budget: float | None, options) -> Measurement:
    """Run raw SpiffWorkflow with the runtime's statements through the bare driver, on a fresh database."""
    with fresh_database(store, options.database_url, options.synchronous_commit) as db:
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


def _record(result: dict, store: str, measured: Measurement, raw: Measurement, ratios: list[float]) -> None:
    result[f"{store}_instances"] = measured.instances
    result[f"{store}_instances_per_s"] = rounded(measured.per_second(), 1)
    result[f"{store}_instances_per_cpu_s"] = rounded(measured.per_cpu_second(), 1)
    ratio = statistics.median(ratios)
    key = "ratio_vs_raw" if store == "sqlite" else f"{store}_ratio_vs_raw"
    result[key] = rounded(ratio, 3)
    result[f"{key}_min"], result[f"{key}_max"] = rounded(min(ratios), 3), rounded(max(ratios), 3)
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
    print(
        f"  ratio to raw: {ratio:.3f} by wall time (median of {len(ratios)} alternating pairs, "
        f"{min(ratios):.3f} to {max(ratios):.3f}), {cpu_ratio:.3f} by this process's CPU time"
    )
    if measured.server_cpu_seconds is not None and measured.instances:
        _record_server(result, store, measured, raw)


def _record_server(result: dict, store: str, measured: Measurement, raw: Measurement) -> None:
    """Print the server's CPU per instance and the ratio a client doing raw's work alone could reach.

    One connection waits for each answer, so an instance's wall time is at least this process's CPU
    time plus the server's; with no CE Flow code at all the client would still do raw's work.
    """
    per = 1000 / measured.instances
    server_ms, client_ms = measured.server_cpu_seconds * per, measured.cpu_seconds * per
    wall_ms, raw_ms = measured.seconds * per, 1000 / raw.per_second()
    bound = raw_ms / (raw_ms + server_ms)
    result[f"{store}_server_cpu_ms_per_instance"] = rounded(server_ms, 3)
    result[f"{store}_client_cpu_ms_per_instance"] = rounded(client_ms, 3)
    result[f"{store}_wall_ms_per_instance"] = rounded(wall_ms, 3)
    result[f"{store}_ratio_bound_raw_work_alone"] = rounded(bound, 3)
    print(
        f"  per instance: {wall_ms:.2f} ms wall = this process {client_ms:.2f} ms CPU + the server's "
        f"processes {server_ms:.2f} ms CPU + {wall_ms - client_ms - server_ms:.2f} ms neither; raw "
        f"{raw_ms:.2f} ms. A client doing raw's work alone would reach at most {bound:.3f} of raw"
    )


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
    """Say whether the issue's targets are met, each on the figures this run measured."""
    checks = []
    if "sqlite_instances_per_s" in result:
        met = (
            result["sqlite_instances_per_s"] >= TARGET_SQLITE_PER_S and result["ratio_vs_raw"] >= TARGET_RATIO
        )
        checks.append(met)
        print(
            f"target: >= {TARGET_SQLITE_PER_S} instances/s on SQLite, ratio >= {TARGET_RATIO}: "
            + ("met" if met else "NOT met")
        )
    if "postgres_ratio_vs_raw" in result:
        met = result["postgres_ratio_vs_raw"] >= TARGET_POSTGRES_RATIO
        checks.append(met)
        print(f"target: PostgreSQL ratio >= {TARGET_POSTGRES_RATIO}: " + ("met" if met else "NOT met"))
    if "workers_gain" in result:
        met = result["workers_gain"] >= TARGET_WORKERS_GAIN and result["workers_decisions_exact"]
        checks.append(met)
        print(
            f"target: {result['workers']} workers >= {TARGET_WORKERS_GAIN} x one, every decision exactly "
            "once: " + ("met" if met else "NOT met")
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
