"""The workplace (工作台): each role's home page, and the menu of what the role may use.

What a role may use and start is the engine's decision (engine.tasks.permissions: `seat_of`, `uses`,
`startable`); this module reads it once per page and words it as menu entries, counts and actions.
"""

from dataclasses import dataclass

from flask import abort
from flask import g
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from domain.notices import centre as notice_centre
from engine.inbox import oversight
from engine.inbox import queries as inbox
from engine.inbox.queries import SOON
from engine.runtime.definitions import list_definitions
from engine.tasks import permissions
from webapp.extensions import db
from webapp.extensions import now
from webapp.extensions import runtime

JSON_BLUEPRINTS = ("inbox_api", "directory_api", "api")  # their answers have no site layout, hence no menu
SOON_DAYS = SOON.days or 1  # the lists filter by whole days ahead; 48 hours are 2 days

# the menu, in order: the use that shows an entry, its page and its words
MENU = (
    ("inbox", "inbox.my_tasks", _l("My tasks")),
    ("my_applications", "applications.index", _l("My applications")),
    ("oversight", "oversight.index", _l("Open work")),
    ("processes", "processes.index", _l("Processes")),
    ("my_courses", "my_courses.index", _l("My courses")),
    ("courses", "courses.index", _l("Courses")),
    ("organisations", "directory.organisations", _l("Organisations")),
    ("persons", "directory.persons", _l("Professionals")),
    ("number_ranges", "ranges.index", _l("Number ranges")),
    ("policy", "policy.calendar", _l("Policy calendar")),
    ("holidays", "holidays.schedule", _l("Holiday schedule")),
    ("supervision", "supervision.index", _l("Supervision")),
    ("incidents", "incidents.index", _l("Incidents")),
    ("notices", "notices.index", _l("Notices")),
)
# the list pages a role reaches from its menu or home page, by the use they belong to: another role
# opening one by its address is told it is not theirs (403) instead of being shown an empty or a
# foreign tool (a professional managing their employer's number ranges); records stay scoped as ever.
# The administrator's own pages (open work, holidays, incidents) and a professional's own courses answer
# 404 to everyone else themselves.
PAGES = {
    "ranges.index": "number_ranges",
    "directory.organisations": "organisations",
    "directory.persons": "persons",
    "policy.calendar": "policy",
    "supervision.index": "supervision",
    "processes.index": "processes",
    "courses.new": "file_course",
}
# the home page's actions: the use that offers one, its page (with parameters) and its words
ACTIONS = (
    (
        "review_persons",
        "inbox.my_tasks",
        {"view": "queue", "process": "register_person"},
        _l("Review professionals' registrations"),
    ),
    (
        "review_organisations",
        "inbox.my_tasks",
        {"view": "queue", "process": "register_organisation"},
        _l("Review organisations' registrations"),
    ),
    ("register_person", "registration.person", {}, _l("Register a professional")),
    ("file_course", "courses.new", {}, _l("File a course")),
    ("courses", "courses.index", {}, _l("Course catalogue")),
    ("persons", "directory.persons", {}, _l("Find a professional")),
    ("number_ranges", "ranges.index", {}, _l("Certificate number ranges")),
    ("organisations", "directory.organisations", {}, _l("Find an organisation")),
    ("oversight", "oversight.index", {}, _l("All open tasks: reassign or terminate")),
    ("oversight", "oversight.index", {"overdue": "1"}, _l("Overdue tasks")),
    ("incidents", "incidents.index", {}, _l("Failed steps (incidents)")),
    ("holidays", "holidays.schedule", {}, _l("Edit the holiday schedule")),
    ("policy_edit", "policy.calendar", {}, _l("Edit the policy calendar")),
    ("process_versions", "processes.index", {}, _l("Processes and their versions")),
    ("supervision", "supervision.index", {}, _l("Read supervision notices")),
    ("my_applications", "applications.index", {}, _l("Follow my applications")),
    ("notices", "notices.index", {}, _l("Read notices")),
    ("handover", "account.handover", {}, _l("Hand over the unit admin role")),
)


@dataclass(frozen=True)
class Link:
    """A menu entry or an action: its words, where it goes, and whether it is the page shown."""

    label: str
    href: str
    current: bool = False
    badge: int = 0
    name: str = ""


@dataclass(frozen=True)
class Count:
    """A figure of the home page that leads to the list it counts."""

    name: str
    label: str
    value: int
    href: str


def seat_the_user() -> None:
    """Decide once per page what the signed-in user may use (g.uses, g.startable) and build the menu (g.menu).

    Templates run no queries and no rules: the layout reads the menu made here.
    """
    if request.endpoint == "static" or request.blueprint in JSON_BLUEPRINTS:
        return
    if not current_user.is_authenticated:
        return
    seat = permissions.seat_of(db.session, current_user.actor)
    g.startable = permissions.startable(runtime(), db.session, seat)
    g.uses = permissions.uses(seat, g.startable)
    g.menu = [
        Link(str(label), url_for(endpoint), request.endpoint == endpoint, _badge(use), use)
        for use, endpoint, label in MENU
        if use in g.uses
    ]
    needed = PAGES.get(request.endpoint)
    if needed is not None and needed not in g.uses:
        abort(403)


def _badge(use: str) -> int:
    return g.get("unread_notices", 0) if use == "notices" else 0


def uses() -> frozenset[str]:
    """Return what the signed-in user may use, as decided for this page."""
    return g.get("uses", frozenset())


def home_page():
    """Render the signed-in user's home: what waits for them, with links, and the actions of their role."""
    actor, allowed = current_user.actor, uses()
    at = now()
    counts, overseen = [], []
    if "inbox" in allowed:
        counts = _counts(inbox.workload(db.session, actor, at), inbox.inbox_counts(db.session, actor))
    if "oversight" in allowed:
        overseen = _overseen(actor, at)
    unread = g.get("unread_notices")
    if unread is None:
        unread = notice_centre.unread_count(db.session, actor)
    notices = Count("unread", str(_l("Unread notices")), unread, url_for("notices.index"))
    actions = [
        Link(str(label), url_for(endpoint, **args))
        for use, endpoint, args, label in ACTIONS
        if use in allowed
    ]
    startable = [d for d in list_definitions(db.session) if d.process_key in g.get("startable", ())]
    return render_template(
        "home.html",
        counts=counts,
        overseen=overseen,
        notices=notices,
        actions=actions,
        startable=startable,
        form=FlaskForm(),
    )


def _counts(work: inbox.Workload, badges: dict[str, int]) -> list[list[Count]]:
    """Return the rows of the "what waits for me" figures: held and queued, each all, due soon, overdue."""
    soon, late = {"due_within": str(SOON_DAYS)}, {"overdue": "1"}

    def row(view: str, name: str, label, values: tuple[int, int, int]) -> list[Count]:
        def to(**filters) -> str:
            return url_for("inbox.my_tasks", view=view, **filters)

        return [
            Count(name, str(label), values[0], to()),
            Count(f"{name}-soon", str(_l("Due soon")), values[1], to(**soon)),
            Count(f"{name}-overdue", str(_l("Overdue")), values[2], to(**late)),
        ]

    returned = url_for("inbox.my_tasks", view="mine", returned="1")
    return [
        row("mine", "mine", _l("Assigned to me"), (work.mine, work.mine_soon, work.mine_overdue)),
        row("queue", "queued", _l("To claim"), (work.queued, work.queued_soon, work.queued_overdue)),
        [
            Count("returned", str(_l("Returned to me")), work.returned, returned),
            Count("started", str(_l("My applications in progress")), badges["started"], _list("started")),
            Count("cc", str(_l("Unread copies")), badges["cc"], _list("cc")),
        ],
    ]


def _list(view: str) -> str:
    return url_for("inbox.my_tasks", view=view)


def _overseen(actor, at) -> list[Count]:
    """Return the administrator's figures: open tasks, overdue, waiting in queues, processes running."""

    def count(**filters) -> int:
        return oversight.count_open(db.session, actor, oversight.OversightQuery(**filters), at)

    def to(**filters) -> str:
        return url_for("oversight.index", **filters)

    running = oversight.running_count(db.session, actor)
    return [
        Count("open", str(_l("Open tasks")), count(), to()),
        Count("open-overdue", str(_l("Overdue")), count(overdue=True), to(overdue="1")),
        Count("open-queued", str(_l("Waiting to be claimed")), count(state="queued"), to(state="queued")),
        Count("running", str(_l("Processes running")), running, to()),
    ]
