"""The signed-in user's account: password change, the unit admin's handover, password resets, unlocking."""

from flask import Blueprint
from flask import abort
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Optional

from domain.accounts.unit_admin import HandoverRefused
from domain.accounts.unit_admin import NewAccount
from domain.accounts.unit_admin import NotUnitAdmin
from domain.accounts.unit_admin import account_view
from domain.accounts.unit_admin import admin_post
from domain.accounts.unit_admin import colleagues
from domain.accounts.unit_admin import handover_history
from domain.accounts.unit_admin import locked_accounts
from domain.accounts.unit_admin import person_to_reset
from domain.accounts.users import MIN_PASSWORD_LENGTH
from domain.accounts.users import AccountRefused
from domain.accounts.users import SignInLocked
from domain.organisations.jurisdiction import NotVisible
from domain.text import TextRefused
from forms.ids import coerce_id
from forms.text import CleanText
from services.accounts import change_own_password
from services.accounts import hand_over_unit_admin
from services.accounts import reset_person_password
from services.accounts import unlock_account
from webapp.auth import client_ip
from webapp.auth import locked_message
from webapp.auth import safe_next
from webapp.errors import redisplays_expired_form
from webapp.extensions import db
from webapp.extensions import now
from webapp.extensions import runtime
from webapp.messages import explain

blueprint = Blueprint("account", __name__, url_prefix="/account")
NEW_ACCOUNT = 0  # the successor choice that creates an account


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
    )


class HandoverForm(FlaskForm):
    successor = SelectField(_l("Successor"), coerce=coerce_id)
    username = StringField(_l("Username of the new account"), validators=[Optional(), CleanText(64)])
    display_name = StringField(_l("Name of the successor"), validators=[Optional(), CleanText(64)])
    note = TextAreaField(
        _l("Note (why, what was handed over)"), validators=[Optional(), CleanText(255, multiline=True)]
    )


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token."""


def temporary_password_page(name: str, username: str, password: str):
    """Show a temporary password once, and keep it out of every cache."""
    response = make_response(
        render_template("account_temporary.html", name=name, username=username, password=password)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("")
@login_required
def index():
    account = account_view(db.session, current_user.actor.id)
    locked = locked_accounts(db.session, current_user.actor, now(), current_user.actor.organisation_id)
    return render_template("account_index.html", account=account, locked=locked)


@blueprint.route("/password", methods=["GET", "POST"])
@redisplays_expired_form
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        account = account_view(db.session, current_user.actor.id)
        try:
            change_own_password(
                runtime(), account.id, account.username, client_ip(), form.current.data, form.new.data
            )
        except SignInLocked as locked:
            flash(locked_message(locked), "error")
        except AccountRefused as error:
            flash(explain(error), "error")
        else:
            flash(_("Your password was changed."), "success")
            return redirect(url_for("account.index"))
    return render_template("account_password.html", form=form, min_length=MIN_PASSWORD_LENGTH)


@blueprint.route("/handover", methods=["GET", "POST"])
@blueprint.route("/organisations/<id:organisation_id>/handover", methods=["GET", "POST"])
@redisplays_expired_form
@login_required
def handover(organisation_id: int | None = None):
    actor = current_user.actor
    try:
        post = admin_post(db.session, actor, organisation_id)
        choices = colleagues(db.session, actor, post.organisation_id)
        history = handover_history(db.session, actor, post.organisation_id)
    except NotUnitAdmin:
        abort(403)
    except NotVisible:
        abort(404)
    form = HandoverForm()
    form.successor.choices = [(c.id, f"{c.display_name} ({c.username})") for c in choices]
    form.successor.choices.append((NEW_ACCOUNT, _("A new account for the successor")))
    if form.validate_on_submit():
        successor = form.successor.data
        if successor == NEW_ACCOUNT:
            successor = NewAccount(form.username.data or "", form.display_name.data or "")
        try:
            done = hand_over_unit_admin(
                runtime(), actor, successor, form.note.data or "", post.organisation_id
            )
        except NotUnitAdmin:
            abort(403)  # someone else handed over first
        except (HandoverRefused, TextRefused) as error:
            flash(explain(error), "error")
        else:
            flash(_("%(name)s is now the unit admin.", name=done.successor_name), "success")
            if done.temporary_password:
                return temporary_password_page(done.successor_name, done.username, done.temporary_password)
            return redirect(url_for("account.index"))
    return render_template("account_handover.html", post=post, form=form, history=history)


@blueprint.route("/persons/<id:person_id>/reset-password", methods=["GET", "POST"])
@redisplays_expired_form
@login_required
def reset_password(person_id: int):
    actor = current_user.actor
    try:
        person = person_to_reset(db.session, actor, person_id)
    except NotUnitAdmin:
        abort(403)
    except NotVisible:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        password = reset_person_password(runtime(), actor, person_id)
        return temporary_password_page(person.name, person.masked_id_number, password)
    return render_template("account_reset.html", person=person, form=form)


@blueprint.route("/users/<id:user_id>/unlock", methods=["POST"])
@login_required
def unlock(user_id: int):
    try:
        name = unlock_account(runtime(), current_user.actor, user_id)
    except NotUnitAdmin:
        abort(403)
    except NotVisible:
        abort(404)
    flash(_("%(name)s can sign in again.", name=name), "success")
    return redirect(safe_next(request.form.get("back")) or url_for("account.index"))
