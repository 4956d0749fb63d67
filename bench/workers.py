"""Several processes driving approval instances through one PostgreSQL database at once.

Each worker is a process of its own with its own engine and connection, kept for the whole run:
the parent tells some or all of them how many instances to run, and each answers with when it
started and ended (perf_counter is the system's monotonic clock, the same in every process).
"""

import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bench.approval import run_runtime_instance
from bench.common import Measurement
from bench.stores import make_runtime
from bench.stores import postgres_engine


@dataclass(frozen=True)
class Round:
    """What some workers did together: instances in all, from the first start to the last end."""

    workers: int
    instances: int
    seconds: float
    busy_cores: float | None = None  # the machine's processors busy meanwhile, on average (all processes)

    def per_second(self) -> float:
        """Return instances per wall-clock second of the round, all workers together."""
        return self.instances / self.seconds if self.seconds else 0.0


class Workers:
    """N worker processes over one database; `run` hands the first few a share of instances each."""

    def __init__(self, url: str, count: int, synchronous_commit: str | None = None):
        context = multiprocessing.get_context("spawn")  # nothing of the parent's engine is inherited
        self._pipes: list[Connection] = []
        self._processes = []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=_serve, args=(url, synchronous_commit, child), daemon=True)
            process.start()
            self._pipes.append(parent)
            self._processes.append(process)
        for pipe in self._pipes:
            pipe.recv()  # each says it is ready: imported, connected, the diagram parsed

    @property
    def count(self) -> int:
        """Return how many workers there are."""
        return len(self._pipes)

    def run(self, per_worker: int, workers: int) -> Round:
        """Have the first `workers` processes run `per_worker` instances each, at once; return the round."""
        busy = self._pipes[:workers]
        busy_before, wall_before = machine_busy_seconds(), time.perf_counter()
        for pipe in busy:
            pipe.send(per_worker)
        answers = [pipe.recv() for pipe in busy]
        busy_after, wall_after = machine_busy_seconds(), time.perf_counter()
        failed = [answer for answer in answers if isinstance(answer, str)]
        if failed:
            raise RuntimeError(f"a worker failed: {failed[0]}")
        started = min(start for _count, start, _end in answers)
        ended = max(end for _count, _start, end in answers)
        cores = None
        if busy_before is not None and busy_after is not None:
            cores = (busy_after - busy_before) / (wall_after - wall_before)
        return Round(workers, sum(count for count, _start, _end in answers), ended - started, cores)

    def close(self) -> None:
        """Tell every worker to stop and wait for it."""
        for pipe in self._pipes:
            pipe.send(None)
        for process in self._processes:
            process.join(timeout=30)


def machine_busy_seconds() -> float | None:
    """Return the CPU seconds every processor of the machine spent busy so far (from /proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _serve(url: str, synchronous_commit: str | None, pipe: Connection) -> None:
    """Run in a worker: answer each instance count with (instances run, start, end) until told None."""
    db = postgres_engine(url, synchronous_commit)
    try:
        rt = make_runtime(db, deploy_diagram=False)
        pipe.send("ready")
        for count in iter(pipe.recv, None):
            measured = Measurement()
            started = time.perf_counter()
            try:
                for _ in range(count):
                    run_runtime_instance(rt, measured)
            except Exception as error:  # said to the parent, which stops the run with it
                pipe.send(f"{type(error).__name__}: {error}")
                continue
            pipe.send((measured.instances, started, time.perf_counter()))
    finally:
        db.dispose()
