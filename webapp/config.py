"""Every configuration key with its default; CEFLOW_* environment variables override them."""

import os
import secrets
from pathlib import Path

DEFAULTS = {
    "DATABASE_URL": None,  # None: an SQLite file in the instance folder
    "SECRET_KEY": None,  # None: a random key per start (sessions end on restart)
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": "zh_CN,en",
    "SCHEDULER_SWEEP_SECONDS": 5,
    "SCHEDULER_ENABLED": False,
    "SEED_BPMN": True,
    "BPMN_DIR": str(Path(__file__).resolve().parent.parent / "workflows" / "bpmn"),
    "NODE_NAME": None,  # None: host-pid, naming this process's timer leases
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 25,
    "MAIL_SENDER": "ceflow@localhost",
    "MAIL_SUPERVISION_TO": "",  # comma-separated addresses that receive every supervision notice
    "SUPERVISION_CRON": "0 8 * * 1",  # crontab, Beijing time: Mondays 08:00; "" turns the job off
    "WTF_CSRF_ENABLED": True,
    "TRUSTED_PROXIES": 0,  # reverse proxies in front of the app whose X-Forwarded-For is trusted
    "SECURE_COOKIES": False,  # True when served over HTTPS: the browser sends cookies over HTTPS only
    "TESTING": False,
    "ATTACHMENT_DIR": None,  # None: an "attachments" folder in the instance folder
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,  # the largest file a task accepts
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # Flask's whole-request ceiling (413 above it); > the file limit
    # argon2 cost of new password hashes (argon2-cffi's defaults); a stored hash carries its own cost
    "PASSWORD_TIME_COST": 3,
    "PASSWORD_MEMORY_KIB": 65536,
    "PASSWORD_PARALLELISM": 4,
}
PREFIX = "CEFLOW_"


def _coerce(default, raw: str):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    return raw


def load_config(overrides: dict | None = None, environ=os.environ) -> dict:
    """Return the configuration: defaults, then CEFLOW_* variables, then explicit overrides."""
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = environ.get(PREFIX + key)
        if raw is not None:
            config[key] = _coerce(default, raw)
    config.update(overrides or {})
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = secrets.token_hex(32)
    if not config["NODE_NAME"]:
        config["NODE_NAME"] = f"{os.uname().nodename}-{os.getpid()}"
    return config
