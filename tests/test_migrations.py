"""The Alembic migrations build exactly the schema the models declare, from an empty database up."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.base import Base
from webapp.app import create_app


def _postgres_scratch_url(suffix: str = "migrations") -> str | None:
    """Return a fresh PostgreSQL database beside the test database, or None when testing on SQLite."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    server = make_url(url)
    scratch = server.set(database=f"{server.database}_{suffix}")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    admin.dispose()
    return scratch.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    url = _postgres_scratch_url()
    if url is None:
        pytest.skip("PostgreSQL is tested when TEST_DATABASE_URL names it")
    return url


def test_upgrade_from_empty_matches_the_models(empty_database):
    app = create_app({"DATABASE_URL": empty_database, "TESTING": True, "SCHEDULER_ENABLED": False})
    engine = create_engine(empty_database)
    try:
        with app.app_context():
            upgrade()
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models and migrations differ; add a migration: ceflow db migrate -m '…'"


def test_upgrade_builds_the_models_indexes_and_tables_exactly(empty_database, tmp_path):
    """What compare_metadata does not see: partial indexes' conditions, SQLite's WITHOUT ROWID tables."""
    if empty_database.startswith("sqlite"):
        from_models = f"sqlite:///{tmp_path / 'models.db'}"
    else:
        from_models = _postgres_scratch_url("models")
    app = create_app({"DATABASE_URL": empty_database, "TESTING": True, "SCHEDULER_ENABLED": False})
    with app.app_context():
        upgrade()
    migrated, declared = create_engine(empty_database), create_engine(from_models)
    try:
        Base.metadata.create_all(declared)
        assert _schema_details(migrated) == _schema_details(declared)
    finally:
        migrated.dispose()
        declared.dispose()


def _schema_details(engine) -> dict[str, str]:
    """Return each index's definition, and on SQLite whether each table keeps a rowid."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                )
            )
            return dict(rows.all())
        rows = connection.execute(
            text("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        ).all()
    details = {name: " ".join(sql.split()) for kind, name, sql in rows if kind == "index"}
    for kind, name, sql in rows:
        if kind == "table" and name != "alembic_version":
            details[name] = "WITHOUT ROWID" if sql.rstrip().upper().endswith("WITHOUT ROWID") else "rowid"
    return details
