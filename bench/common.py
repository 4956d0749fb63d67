"""Shared by the benchmarks: command-line options, timed loops, and the one-line JSON result."""

import argparse
import json
import statistics
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field

STORES = ("sqlite", "postgres")


@dataclass
class Measurement:
    """What one timed loop did: instances, wall and CPU seconds, and milliseconds per step kind."""

    instances: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    steps_ms: dict[str, list[float]] = field(default_factory=dict)
    server_cpu_seconds: float | None = None  # the database server's processes meanwhile, when known

    @contextmanager
    def loop(self) -> Iterator[None]:
        """Time the whole loop, wall clock and process CPU."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - wall
            self.cpu_seconds += time.process_time() - cpu

    @contextmanager
    def step(self, kind: str) -> Iterator[None]:
        """Time one step (a command, an inbox query) under its kind."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps_ms.setdefault(kind, []).append((time.perf_counter() - started) * 1000)

    def add(self, other: "Measurement") -> None:
        """Count another loop's instances, time and steps into this one."""
        self.instances += other.instances
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        if other.server_cpu_seconds is not None:
            self.server_cpu_seconds = (self.server_cpu_seconds or 0.0) + other.server_cpu_seconds
        for kind, values in other.steps_ms.items():
            self.steps_ms.setdefault(kind, []).extend(values)

    def per_second(self) -> float:
        """Return instances per wall-clock second."""
        return self.instances / self.seconds if self.seconds else 0.0

    def per_cpu_second(self) -> float:
        """Return instances per second of this process's CPU time: per core, whatever else runs."""
        return self.instances / self.cpu_seconds if self.cpu_seconds else 0.0

    def median_ms(self, *kinds: str) -> float:
        """Return the median milliseconds over the steps of these kinds."""
        values = [ms for kind in kinds for ms in self.steps_ms.get(kind, ())]
        return statistics.median(values) if values else 0.0

    def cpu_share(self) -> float:
        """Return this process's CPU time as a share of the wall time (1.0 = one core kept busy)."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def parse_options(
    description: str, quick_instances: int, full_instances: int, *extra_options: Callable
) -> argparse.Namespace:
    """Read the options (see --help); fill in the instance count for the mode.

    Each of `extra_options` adds a benchmark's own options to the parser.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (under 30 s in all)")
    parser.add_argument("--instances", type=int, help=f"instances per store (default {full_instances})")
    parser.add_argument(
        "--stores",
        default=",".join(STORES),
        help="comma-separated stores to run: sqlite, postgres (default both)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run the SQLite loop under cProfile and print its top functions by cumulative time",
    )
    parser.add_argument(
        "--same-writes",
        action="store_true",
        help="also run raw SpiffWorkflow issuing the runtime's SQL through the bare driver (the ceiling)",
    )
    for add in extra_options:
        add(parser)
    options = parser.parse_args()
    if options.instances is None:
        options.instances = quick_instances if options.quick else full_instances
    if options.instances < 1:
        parser.error("--instances must be at least 1")
    options.stores = [s.strip() for s in options.stores.split(",") if s.strip()]
    unknown = sorted(set(options.stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store(s): {', '.join(unknown)}; choose from {', '.join(STORES)}")
    return options


def rounded(value: float, digits: int = 2) -> float:
    """Round a figure for the JSON line."""
    return round(value, digits)


def print_result(result: dict) -> None:
    """Print the figures as one JSON object; it must be the last line of the output."""
    print(json.dumps(result, ensure_ascii=False), flush=True)
