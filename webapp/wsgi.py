"""What gunicorn serves under `ceflow serve`: the app, its request lines on standard output."""

import logging
import sys

from flask import Flask

from webapp.app import create_app


def production_app() -> Flask:
    """Build the app for a production worker: a configured secret key required, request logs shown."""
    requests = logging.getLogger("ceflow.requests")
    if not requests.handlers:  # once per worker process
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))  # the line is already JSON
        requests.addHandler(handler)
        requests.setLevel(logging.INFO)
    return create_app()
