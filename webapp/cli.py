"""The `ceflow` command line: database, demo data, deploys, the web app and the scheduler."""

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import routes_command
from flask.cli import shell_command
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError
from werkzeug.serving import run_simple

from domain.refusals import CodedError
from domain.text import TextRefused
from engine.errors import DiagramRefused
from engine.errors import EngineError
from engine.runtime.definitions import check_process_key
from engine.tasks.start_data import MAX_CHARACTERS
from engine.tasks.start_data import parse_start_data
from engine.timers.sweep import sweep_timers
from seed.demo import DEMO_LOGINS
from seed.demo import load_demo_data
from services.processes import deploy_diagram
from services.processes import start_process
from webapp.app import create_app
from webapp.config import MissingSecretKey
from webapp.config import kept_secret_key
from webapp.config import load_config
from webapp.extensions import runtime
from webapp.first_start import initialise_database
from webapp.messages import explain
from webapp.scheduler import run_scheduler_forever
from webapp.scheduler import start_background_scheduler
from webapp.scheduler import supervise


def create_cli_app():
    """Build the app for a `ceflow` command: without CEFLOW_SECRET_KEY, the instance folder's key."""
    return create_app(fallback_secret_key=kept_secret_key)


@click.group(cls=FlaskGroup, create_app=create_cli_app, add_default_commands=False)
def cli():
    """CE Flow (继续教育审批流) command line."""


cli.add_command(shell_command)
cli.add_command(routes_command)


@cli.command("init-db")
@with_appcontext
def init_db():
    """Upgrade the database schema and seed regions, the holiday calendar and the bundled diagrams."""
    upgrade()
    report = initialise_database(runtime(), current_app.config)
    click.echo(report)


@cli.command("demo-data")
@with_appcontext
def demo_data():
    """Load the Pingdingshan demo organisations, people and pending applications."""
    click.echo(load_demo_data(runtime()))


@cli.command("deploy")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--by", default="cli", help="Who deploys (recorded with the version).")
@with_appcontext
def deploy_command(files, by):
    """Deploy BPMN files as new versions; exit 2 when any is refused."""
    refused = False
    for path in files:
        try:
            with open(path, "rb") as handle:
                result = deploy_diagram(runtime(), handle.read(), path, by)
        except DiagramRefused as error:
            refused = True
            click.echo(f"{path}: refused", err=True)
            for element, reason in error.problems:
                click.echo(f"  {element or '-'}: {reason}", err=True)
            continue
        state = "unchanged" if result.unchanged else "deployed"
        click.echo(f"{path}: {result.process_key} version {result.version} {state}")
    sys.exit(2 if refused else 0)


@cli.command("start")
@click.argument("key")
@click.option("--data", default="{}", help=f"A JSON object, at most {MAX_CHARACTERS} characters.")
@click.option("--as-user", type=int, default=None, help="Initiating user id.")
@with_appcontext
def start_command(key, data, as_user):
    """Start an instance of a process; exit 2 with the reason when refused or its first steps fail.

    The same checks as every other start (services.processes.start_process): a plain process key,
    a small JSON object whose subject is clean text, an active initiating user.
    """
    try:
        check_process_key(key)
        instance_id = start_process(runtime(), key, as_user, parse_start_data(data))
    except (EngineError, TextRefused) as error:
        click.echo(f"refused: {_worded(error)}", err=True)
        sys.exit(2)
    click.echo(f"started instance {instance_id}")


@cli.command("sweep")
@with_appcontext
def sweep_command():
    """Fire the timers that are due now, once."""
    result = sweep_timers(runtime())
    click.echo(f"claimed {result.claimed}, fired {result.fired}, failed {result.failed}")


@cli.command("supervise")
@with_appcontext
def supervise_command():
    """Produce this week's supervision notices now (the scheduler does it every Monday)."""
    produced = supervise(runtime(), current_app.config)
    click.echo(f"supervision notices produced: {len(produced)}")


@cli.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the timer sweep (and cron jobs) in this process until stopped."""
    run_scheduler_forever(current_app._get_current_object())


@cli.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--demo/--no-demo", default=True, help="Load the demo data on first start.")
@with_appcontext
def run_command(host, port, demo):
    """Set up the database, start the scheduler in-process and serve the web app."""
    app = current_app._get_current_object()
    upgrade()
    click.echo(initialise_database(runtime(), app.config))
    if demo:
        click.echo(load_demo_data(runtime()))
    start_background_scheduler(app)
    click.echo(f"\nCE Flow is running at http://{host}:{port}/")
    click.echo("Demo logins (password for all: demo1234):")
    for role, username in DEMO_LOGINS:
        click.echo(f"  {role:<28} {username}")
    # not app.run(): under the flask CLI (FLASK_RUN_FROM_CLI) it returns at once without serving
    run_simple(host, port, app, threaded=True)


@cli.command("serve")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address (host:port) to listen on.")
@click.option(
    "--timeout", default=60, show_default=True, type=int, help="Seconds before a silent worker restarts."
)
def serve_command(workers, bind, timeout):
    """Serve the web app with gunicorn (production); run `ceflow scheduler` as its own process beside it.

    Refuses to start without CEFLOW_SECRET_KEY, which every worker must share.
    """
    config = load_config()
    if not config["SECRET_KEY"]:
        raise click.ClickException(str(MissingSecretKey()))
    if not str(config["DATABASE_URL"] or "").startswith("postgresql"):
        click.echo(
            "warning: CEFLOW_DATABASE_URL does not name PostgreSQL; serve production from it", err=True
        )
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        click.echo(
            "warning: CEFLOW_RATELIMIT_STORAGE_URI is memory://, so each worker counts public-page"
            " requests alone; name a store every node shares, e.g. redis://127.0.0.1:6379/0",
            err=True,
        )
    arguments = ["--workers", str(workers), "--bind", bind, "--timeout", str(timeout)]
    app = "webapp.wsgi:production_app()"
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *arguments, app])


def main() -> None:
    """Entry point of the `ceflow` console script."""
    try:
        cli(prog_name="ceflow")
    except MissingSecretKey as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    except (OperationalError, ProgrammingError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        click.echo(f"The database is not ready ({reason}). Run `ceflow init-db` first.", err=True)
        sys.exit(1)


def _worded(error: CodedError) -> str:
    """Word a refusal as a page would, in the site's default language; a text refusal names its field."""
    with current_app.test_request_context():
        worded = explain(error)
    return f"{error.params['field']}: {worded}" if isinstance(error, TextRefused) else worded
