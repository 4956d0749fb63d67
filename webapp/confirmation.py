"""Confirm an action that cannot be undone (不通过, 终止, bulk actions, 撤回), with or without JavaScript.

With JavaScript, static/confirm.js asks in a dialog naming what will happen and adds `confirmed=1`
to the form. Without it, the route answers the first post with a page that says the same and posts
the same fields again with `confirmed=1`: nothing is done until the user confirms, either way.
"""

from flask import render_template
from flask import request
from flask_babel import gettext as _

CONFIRMED = "confirmed"


def confirmed() -> bool:
    """Say whether the posted form carries the user's confirmation."""
    return request.form.get(CONFIRMED) == "1"


def confirm_page(title: str, message: str, button: str, back: str, items: list[str] | None = None):
    """Return the confirmation step: what will happen, and the posted form again with its confirmation."""
    fields = [
        (name, value)
        for name in request.form
        if name not in ("csrf_token", CONFIRMED)
        for value in request.form.getlist(name)
    ]
    return render_template(
        "confirm.html",
        title=title,
        message=message,
        button=button,
        back=back,
        items=items or [],
        action=request.path,
        fields=fields,
    )


def reject_message(subject: str) -> str:
    """Say what rejecting an application does (不通过)."""
    return _(
        "Reject “%(subject)s”: the process ends here and the applicant reads your opinion. "
        "This cannot be undone.",
        subject=subject,
    )


def terminate_message(subject: str) -> str:
    """Say what terminating a process does (终止)."""
    return _(
        "Terminate “%(subject)s”: the process ends at once, its open steps are cancelled and the "
        "application is marked terminated. This cannot be undone.",
        subject=subject,
    )


def withdraw_message(subject: str) -> str:
    """Say what withdrawing one's application does (撤回)."""
    return _(
        "Withdraw “%(subject)s”: the review stops and the application is closed. To apply again you "
        "submit a new application.",
        subject=subject,
    )


def bulk_message(action: str, count: int | None = None) -> str:
    """Say what a bulk action does to the selected tasks (how many, when known)."""
    if action == "return":
        if count is None:
            return _("Return the selected tasks to their applicants with your opinion.")
        return _("Return the %(count)s selected tasks to their applicants with your opinion.", count=count)
    if count is None:
        return _("Approve the selected tasks: each goes on to its next step.")
    return _("Approve the %(count)s selected tasks: each goes on to its next step.", count=count)
