"""Sign-in (throttled against guessing) and sign-out, and the language switch."""

from urllib.parse import urlsplit

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session as browser_session
from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired

from domain.accounts.users import Actor
from domain.accounts.users import SignInLocked
from domain.accounts.users import actor_for
from domain.registration.applications import ApplicationNotActive
from domain.registration.applications import administered_application
from services.accounts import sign_in
from webapp.errors import redisplays_expired_form
from webapp.extensions import db
from webapp.extensions import runtime
from webapp.rate_limits import public_page

blueprint = Blueprint("auth", __name__)
# the browser session key of a unit admin who may read why their application was closed, and nothing else
CLOSED_APPLICATION = "closed_application"


class SignedIn(UserMixin):
    """The Flask-Login view of an actor."""

    def __init__(self, actor: Actor):
        self.actor = actor
        self.id = str(actor.id)


class LoginForm(FlaskForm):
    username = StringField(_l("Username or ID number"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def install_user_loader(login_manager) -> None:
    """Teach Flask-Login to load the signed-in actor."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load(user_id: str):
        actor = actor_for(db.session, int(user_id))
        return SignedIn(actor) if actor else None


def client_ip() -> str:
    """Return the address the throttle counts failures by (behind a proxy, configure ProxyFix)."""
    return request.remote_addr or "unknown"


def locked_message(locked: SignInLocked) -> str:
    """Return the lockout refusal: when it ends (in the user's time zone) and who can lift it sooner."""
    until = format_datetime(locked.until, "yyyy-MM-dd HH:mm")
    if locked.by_address:
        return _("Too many failed sign-ins from this network. Try again after %(time)s.", time=until)
    return _(
        "This account is locked after too many failed sign-ins. Try again after %(time)s, or ask the "
        "unit admin of your organisation (or your HRSS office) to unlock it now.",
        time=until,
    )


@blueprint.route("/login", methods=["GET", "POST"])
@redisplays_expired_form
@public_page
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user_id = sign_in(runtime(), form.username.data, form.password.data, client_ip())
        except SignInLocked as locked:
            flash(locked_message(locked), "error")
            return render_template("login.html", form=form), 429
        except ApplicationNotActive as closed:
            browser_session[CLOSED_APPLICATION] = {"organisation_id": closed.organisation_id}
            return redirect(url_for("applications.closed"))
        if user_id is not None:
            browser_session.pop(CLOSED_APPLICATION, None)
            login_user(SignedIn(actor_for(db.session, user_id)))
            landing = "applications.index" if administered_application(db.session, user_id) else "inbox.home"
            return redirect(safe_next(request.args.get("next")) or url_for(landing))
        flash(_("Wrong username or password."), "error")
    return render_template("login.html", form=form)


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@blueprint.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    browser_session["lang"] = code
    return redirect(same_site_referrer() or url_for("inbox.home"))


def same_site_referrer() -> str | None:
    """Return the path of the page the request came from when it is this site's, else None."""
    back = urlsplit(request.referrer or "")
    if back.netloc != request.host or back.scheme not in ("http", "https"):
        return None
    return safe_next(back.path + (f"?{back.query}" if back.query else ""))


def safe_next(target: str | None) -> str | None:
    """Return a same-site path to follow, or None: no open redirect, whatever the encoding."""
    if not target or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
