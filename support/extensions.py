"""Unbound extensions, bound to the app in `create_app`."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from requests_queue.models import Base

# The domain's declarative base (with its constraint naming convention) backs db.Model,
# so the same models serve the web app, the CLI, the scheduler and the bench.
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
