"""Every configuration key with its default; CEFLOW_* environment variables override them."""

import os
import secrets
from pathlib import Path

DEFAULTS = {
    "DATABASE_URL": None,  # None: an SQLite file in the instance folder
    "INSTANCE_PATH": None,  # None: Flask's `instance` folder beside the code; each node may have its own
    # signs sessions; required in production, the same for every worker (create_app refuses to start
    # without it); `ceflow` commands keep one in the instance folder, tests and debug draw a random one
    "SECRET_KEY": None,
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": "zh_CN,en",
    "SCHEDULER_SWEEP_SECONDS": 5,
    "SCHEDULER_ENABLED": False,
    # a scheduler sweeps beside the web app (`ceflow scheduler`, or in-process under `ceflow run`):
    # /readyz needs its heartbeat; False (and SCHEDULER_ENABLED false): /readyz reports it "off"
    "SCHEDULER_EXPECTED": True,
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
    # public pages (sign-in, self-registration, the API document) per client address; counted in
    # RATELIMIT_STORAGE_URI, which several workers or nodes must share (redis://127.0.0.1:6379/0)
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "ceflow",  # one per installation sharing a Redis
    "RATELIMIT_PUBLIC": "300 per minute",
    "RATELIMIT_SUBMISSIONS": "60 per hour",  # public form submissions (sign-in attempts, registrations)
    # where uploaded and generated files are kept, readable by every node: "database" (the default,
    # in the same transaction as their records) or "directory:/a/folder/every/node/mounts"
    "FILE_STORE": "database",
    # the site's public address (https://ce.example.gov.cn), printed in pass certificates' QR codes;
    # "" takes the address of the request that issues the certificate
    "PUBLIC_URL": "",
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,  # the largest file a task accepts
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # Flask's whole-request ceiling (413 above it); > the file limit
    # argon2 cost of new password hashes (argon2-cffi's defaults); a stored hash carries its own cost
    "PASSWORD_TIME_COST": 3,
    "PASSWORD_MEMORY_KIB": 65536,
    "PASSWORD_PARALLELISM": 4,
}
PREFIX = "CEFLOW_"


class MissingSecretKey(RuntimeError):
    """Production refuses to start without a configured secret key."""

    def __init__(self):
        super().__init__(
            "CEFLOW_SECRET_KEY is not set. Without it each worker signs sessions with its own random key,"
            " and users are signed out whenever a request reaches another worker. Set CEFLOW_SECRET_KEY"
            " to the same long random value for every process, e.g. the output of"
            " `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )


def kept_secret_key(instance_path: str | Path) -> str:
    """Return the secret key kept in the instance folder, made on first use (sessions outlive restarts)."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


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
    if not config["NODE_NAME"]:
        config["NODE_NAME"] = f"{os.uname().nodename}-{os.getpid()}"
    return config
