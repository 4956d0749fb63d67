"""Production serving: gunicorn workers share one configured secret key, or nothing starts."""

import logging
import sys

import pytest
from click.testing import CliRunner

from webapp import cli as ceflow_cli
from webapp.app import create_app
from webapp.config import MissingSecretKey
from webapp.config import kept_secret_key
from webapp.wsgi import production_app


@pytest.fixture
def no_secret_key(monkeypatch, database_url):
    """An environment like a fresh production host's: a database, no CEFLOW_SECRET_KEY."""
    monkeypatch.delenv("CEFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("CEFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("CEFLOW_SEED_BPMN", "false")
    requests = logging.getLogger("ceflow.requests")  # production_app gives it a handler: take it back
    monkeypatch.setattr(requests, "handlers", [])
    monkeypatch.setattr(requests, "level", requests.level)


@pytest.fixture
def execs(monkeypatch):
    """Record the program `ceflow serve` would exec instead of running it."""
    calls = []
    monkeypatch.setattr(ceflow_cli.os, "execv", lambda path, argv: calls.append(argv))
    return calls


def test_serve_refuses_to_start_without_a_secret_key(no_secret_key, execs):
    result = CliRunner().invoke(ceflow_cli.cli, ["serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "CEFLOW_SECRET_KEY is not set" in result.output
    assert execs == []


def test_serve_runs_gunicorn_with_the_workers_on_the_production_app(no_secret_key, execs, monkeypatch):
    monkeypatch.setenv("CEFLOW_SECRET_KEY", "shared-by-every-worker")
    result = CliRunner().invoke(ceflow_cli.cli, ["serve", "--workers", "3", "--bind", "127.0.0.1:8123"])
    assert result.exit_code == 0, result.output
    (argv,) = execs
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[argv.index("--workers") + 1] == "3" and argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert argv[-1] == "webapp.wsgi:production_app()"


def test_the_production_app_refuses_to_start_without_a_secret_key(no_secret_key):
    with pytest.raises(MissingSecretKey, match="CEFLOW_SECRET_KEY"):
        production_app()
    with pytest.raises(MissingSecretKey):
        create_app()


def test_the_production_app_starts_with_the_configured_key(no_secret_key, monkeypatch):
    monkeypatch.setenv("CEFLOW_SECRET_KEY", "shared-by-every-worker")
    assert production_app().secret_key == "shared-by-every-worker"


def test_tests_and_debugging_draw_a_random_key(no_secret_key):
    assert len(create_app({"TESTING": True}).secret_key) == 64


def test_the_cli_keeps_one_key_in_the_instance_folder(tmp_path):
    first = kept_secret_key(tmp_path)
    assert kept_secret_key(tmp_path) == first and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
