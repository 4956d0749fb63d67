"""Flask extensions, created unbound and attached in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

import schema

db = SQLAlchemy(model_class=schema.Base)  # schema registers every table, so Alembic sees them all
migrate = Migrate()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
