"""Flask extensions, created unbound and attached in create_app, and the accessor of the engine runtime."""

from datetime import datetime

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

import schema
from domain.files import FileStore
from engine.runtime import Runtime

RUNTIME_KEY = "ceflow.runtime"  # app.extensions entry: the runtime create_app builds
FILE_STORE_KEY = "ceflow.file_store"  # app.extensions entry: the store FILE_STORE names

db = SQLAlchemy(model_class=schema.Base)  # schema registers every table, so Alembic sees them all
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()


def runtime() -> Runtime:
    """Return the current app's engine runtime."""
    return current_app.extensions[RUNTIME_KEY]


def now() -> datetime:
    """Return the runtime clock's reading (a fake one in tests)."""
    return runtime().clock()


def file_store() -> FileStore:
    """Return the current app's file store (made in create_app from FILE_STORE)."""
    return current_app.extensions[FILE_STORE_KEY]
