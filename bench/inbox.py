"""Benchmark the approvers' inbox: `python bench/inbox.py [--quick] [--postgres-url URL]`.

Builds a province (17 cities, 153 counties, 100 000 users) with 1 000 000 open tasks, their queue
rows, finished tasks and copies, straight into the tables (bench/inbox_data.py); then times the
first page of "mine", the first page of a group queue, a filtered page, an applicant-name page, a
deep keyset page (after 50 pages) and the count badges: through the JSON API (Flask test client,
signed in), through the engine call alone, and as bare hand-written SQL over the same indexes
(bench/inbox_pages.py). Median and 95th percentile over many different users, on SQLite (a file in
a temporary folder) and PostgreSQL (a private database the run empties; skipped with a note when it
cannot be reached). The last line is one JSON object: {"sqlite": {...}, "postgres": {...}}.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Run the benchmark; the figures come last, as one JSON object."""
    # Run as a script, this file's folder heads sys.path and bench/engine.py would shadow the engine.
    if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
        sys.path[0] = str(ROOT)
    from bench.inbox_run import run  # only after the path is fixed, hence not at the top

    run()


if __name__ == "__main__":
    main()
