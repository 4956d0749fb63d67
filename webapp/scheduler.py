"""APScheduler drives the timer sweep: in-process under `ceflow run`, or alone as `ceflow scheduler`."""

import contextlib
import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from engine.sweep import sweep_timers

log = logging.getLogger(__name__)


def _sweep(app: Flask) -> None:
    result = sweep_timers(app.extensions["ceflow.runtime"])
    if result.claimed:
        log.info("timer sweep: claimed %s, fired %s, failed %s", result.claimed, result.fired, result.failed)


def _add_jobs(scheduler, app: Flask) -> None:
    scheduler.add_job(
        _sweep,
        "interval",
        args=[app],
        seconds=app.config["SCHEDULER_SWEEP_SECONDS"],
        id="timer_sweep",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )


def start_background_scheduler(app: Flask) -> BackgroundScheduler:
    """Start the sweep in a background thread of this process."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    _add_jobs(scheduler, app)
    scheduler.start()
    return scheduler


def run_scheduler_forever(app: Flask) -> None:
    """Run the sweep in the foreground until interrupted."""
    logging.basicConfig(level=logging.INFO)
    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    _add_jobs(scheduler, app)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
