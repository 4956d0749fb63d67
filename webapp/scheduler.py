"""APScheduler drives the timer sweep and the weekly supervision notices.

It runs in-process under `ceflow run`, or alone as `ceflow scheduler`; never in tests, which call
the job functions directly.
"""

import contextlib
import logging
import re

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from engine.runtime import Runtime
from engine.timers.heartbeat import record_heartbeat
from engine.timers.sweep import sweep_timers
from infra.mail import Mailer
from infra.mail import SmtpMailer
from infra.mail import parse_addresses
from services.supervision import produce_weekly_notices
from webapp.extensions import RUNTIME_KEY

log = logging.getLogger(__name__)
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _sweep(app: Flask) -> None:
    rt = app.extensions[RUNTIME_KEY]
    record_heartbeat(rt)  # before the sweep: /readyz sees the scheduler alive while a long sweep runs
    result = sweep_timers(rt)
    if result.claimed:
        log.info("timer sweep: claimed %s, fired %s, failed %s", result.claimed, result.fired, result.failed)


def supervise(rt: Runtime, config, mailer: Mailer | None = None) -> list[int]:
    """Produce this week's supervision notices, mailed to the configured addresses once committed."""
    recipients = parse_addresses(config["MAIL_SUPERVISION_TO"])
    if mailer is None and recipients:
        mailer = SmtpMailer(config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_SENDER"])
    return produce_weekly_notices(rt, mailer, recipients)


def _supervise(app: Flask) -> None:
    produced = supervise(app.extensions[RUNTIME_KEY], app.config)
    log.info("supervision notices: produced %s", len(produced))


def crontab_weekdays(field: str) -> str:
    """Return a crontab day-of-week field (0 or 7 = Sunday) in the day names APScheduler 3 reads right.

    APScheduler 3 counts weekday numbers from Monday = 0, even in CronTrigger.from_crontab
    (agronholm/apscheduler#286), so a bare "1" would run on Tuesdays.
    """
    if field == "*":
        return field
    days = []
    for item in field.split(","):
        span, _, step = item.partition("/")
        if not re.fullmatch(r"\*|\d+(-\d+)?", span):
            days.append(item)  # day names mean the same to both
            continue
        first, _, last = ("0-6" if span == "*" else span).partition("-")
        numbers = range(int(first), int(last or first) + 1, int(step or 1))
        if not numbers or numbers[-1] > 7:
            raise ValueError(f"day of week {item!r} is not an ascending range within 0-7")
        days.extend(CRON_WEEKDAYS[n] for n in numbers)
    return ",".join(dict.fromkeys(days))


def supervision_trigger(config) -> CronTrigger | None:
    """Return the supervision job's trigger (Beijing time), or None when SUPERVISION_CRON is empty."""
    crontab = config["SUPERVISION_CRON"]
    if not crontab:
        return None
    try:
        fields = crontab.split()
        if len(fields) != 5:
            raise ValueError(f"it needs 5 fields (minute hour day month weekday), not {len(fields)}")
        minute, hour, day, month, weekday = fields
        if day != "*" and weekday != "*":
            raise ValueError("give a day of the month or a day of the week, not both")
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone="Asia/Shanghai",
        )
    except ValueError as error:
        raise ValueError(f"SUPERVISION_CRON {crontab!r} is not a crontab line: {error}") from None


def _add_supervision_job(scheduler, app: Flask) -> None:
    trigger = supervision_trigger(app.config)
    if trigger is None:
        return
    scheduler.add_job(
        _supervise,
        trigger,
        args=[app],
        id="supervision_notices",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,  # a run delayed by a busy pool or a suspended host still happens
        replace_existing=True,
    )


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
    _add_supervision_job(scheduler, app)


def start_background_scheduler(app: Flask) -> BackgroundScheduler:
    """Start the sweep and the supervision job in a background thread of this process."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    _add_jobs(scheduler, app)
    scheduler.start()
    return scheduler


def run_scheduler_forever(app: Flask) -> None:
    """Run the sweep and the supervision job in the foreground until interrupted."""
    logging.basicConfig(level=logging.INFO)
    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    _add_jobs(scheduler, app)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
