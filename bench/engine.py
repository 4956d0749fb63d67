"""Benchmark CE Flow's runtime against raw SpiffWorkflow: `python bench/engine.py [--quick] [--workers 4]`.

Prints instances per second of a start-and-two-approvals process through the runtime with
persistence (SQLite, PostgreSQL), beside raw SpiffWorkflow doing the same steps with in-memory
state round trips in alternating loops, the ratios, and median milliseconds per command; with
--workers N, one worker process against N at once on one PostgreSQL database (--database-url),
and a count of every instance's decisions afterwards; the last line is one JSON object.
`python -m bench.engine` works too. The work happens in bench/runner.py. With
--same-writes it also runs raw SpiffWorkflow issuing the runtime's own SQL through the bare driver
(bench/same_writes.py): the ceiling for one committed transaction per command on each store.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Run the benchmark; the figures come last, as one JSON object."""
    # Run as a script, this file's folder heads sys.path and its name would shadow the engine package.
    if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
        sys.path[0] = str(ROOT)
    from bench.runner import run  # only after the path is fixed, hence not at the top

    run()


if __name__ == "__main__":
    main()
