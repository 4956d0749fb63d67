"""One JSON line per request on the `ceflow.requests` logger, under a request id echoed to the client."""

import json
import logging
import re
import time
import uuid
from datetime import UTC
from datetime import datetime

from flask import Flask
from flask import g
from flask import request

log = logging.getLogger("ceflow.requests")
REQUEST_ID_HEADER = "X-Request-Id"
# an id from a proxy is kept only when it is short and plain: it is echoed in a header and logged
ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def install_request_log(app: Flask) -> None:
    """Time every request and log it as it ends; install before any hook that may refuse a request."""
    app.before_request(_start)
    app.after_request(_finish)


def request_id() -> str:
    """Return this request's id: the client's or proxy's X-Request-Id when plain, else a new one."""
    if "request_id" not in g:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = offered if ACCEPTED_ID.fullmatch(offered) else uuid.uuid4().hex
    return g.request_id


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response):
    started = g.get("request_started", time.perf_counter())
    user = g.get("_login_user")  # the user this request loaded, if any: logging loads no one
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id(),
        "user_id": user.get_id() if user is not None and user.is_authenticated else None,
        "endpoint": request.endpoint,
        "route": request.url_rule.rule if request.url_rule else None,
        "method": request.method,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    log.info(json.dumps(line, ensure_ascii=False))
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response
