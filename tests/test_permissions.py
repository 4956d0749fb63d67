"""The permission matrix: every role x every action x task state, through the engine and through the API.

One rule (engine.tasks.permissions) answers what an actor may do with a task now; each refused
action is tried through its engine command and through the JSON API, and both must refuse it with
the same reason code, changing nothing. A delegate hands the task back; it may not decide it.
"""

import pytest
from sqlalchemy import update

from domain.accounts.passwords import hash_password
from domain.accounts.users import User
from domain.accounts.users import actor_for
from engine.errors import EngineError
from engine.tasks import permissions
from engine.tasks.assignment import claim_task
from engine.tasks.assignment import delegate_task
from engine.tasks.assignment import reassign_task
from engine.tasks.assignment import transfer_task
from engine.tasks.assignment import unclaim_task
from engine.tasks.commands import complete_task
from engine.tasks.commands import reject_task
from engine.tasks.commands import return_task
from engine.tasks.commands import terminate_instance
from engine.tasks.commands import withdraw_instance
from engine.tasks.copies import copy_task
from engine.tasks.countersign import countersign_task
from engine.tasks.urge import urge_task
from tests.engine_helpers import audit_actions
from tests.engine_helpers import instance
from tests.engine_helpers import only_open_task
from tests.test_demo_approval import submit
from tests.web.conftest import csrf_token
from webapp.app import create_app
from webapp.extensions import db

PASSWORD = "matrix-pw"
ROLES = (
    "holder",  # a candidate of the city step; it claims it in every state but "unclaimed"
    "candidate",  # another candidate of the same step
    "delegate",
    "before",  # an approver added before the holder (加签)
    "after",  # an approver added after the holder
    "copy",  # the task was copied to them (抄送)
    "applicant",
    "handler",  # handled the county step before
    "colleague",  # the holder's colleague, unrelated to the task
    "other_region",
    "admin",
)
STATES = ("unclaimed", "claimed", "delegated", "countersign_before", "countersign_after", "closed")
ACTIONS = permissions.ACTIONS
HIDDEN = {a: "not_found" for a in ACTIONS}
READER = {a: "read_only" for a in ACTIONS} | {
    "urge": "not_involved",
    "terminate": "admin_only",
    "withdraw": "initiator_only",
}


def worker(**overrides):
    """Refusals of one who may work the task, before the state's own overrides."""
    return (
        {a: None for a in ACTIONS}
        | {
            "reassign": "admin_only",
            "terminate": "admin_only",
            "withdraw": "initiator_only",
            "urge": "not_involved",
        }
        | overrides
    )


QUEUED = worker(countersign="claim_first", release="not_holder")
HELD_ELSEWHERE = worker(
    approve="held_by_other",
    **{a: "held_by_other" for a in ("return", "reject", "transfer", "delegate", "countersign", "claim")},
    release="not_holder",
)
HOLDING = worker(claim="already_claimed", urge="own_step")
ADMIN_ELSEWHERE = HELD_ELSEWHERE | {"reassign": None, "terminate": None, "urge": None}
CLOSED = worker(
    **{a: "task_closed" for a in ACTIONS if a not in ("copy", "terminate", "withdraw", "urge")},
    urge="task_closed",
)


def expected(state: str) -> dict[str, dict[str, str | None]]:
    """Return, for each role, every action's refusal reason in this state (None: allowed)."""
    involved = READER | {"urge": None}  # the applicant and an earlier approver may urge
    readers = {"copy": READER, "applicant": involved | {"withdraw": "step_disallows"}, "handler": involved}
    table = {role: HIDDEN for role in ("delegate", "before", "after", "colleague", "other_region")} | readers
    if state == "unclaimed":
        return table | {
            "holder": QUEUED,
            "candidate": QUEUED,
            "admin": QUEUED | {"reassign": None, "terminate": None, "urge": None},
        }
    if state == "closed":
        closed_readers = {role: refusals | {"urge": "task_closed"} for role, refusals in readers.items()}
        closed_readers["applicant"] = closed_readers["applicant"] | {"withdraw": "process_ended"}
        return (
            table
            | closed_readers
            | {
                "holder": CLOSED,
                "candidate": CLOSED,
                "admin": CLOSED | {"terminate": "process_ended"},
            }
        )
    others = {"candidate": HELD_ELSEWHERE, "admin": ADMIN_ELSEWHERE}
    if state == "claimed":
        return table | others | {"holder": HOLDING}
    decided_by_owner = ("return", "reject", "transfer", "delegate", "countersign", "release")
    if state == "delegated":
        owner = HELD_ELSEWHERE | {a: "delegated_away" for a in ("approve", "return", "reject")}
        owner |= {a: "delegated_away" for a in ("transfer", "delegate", "countersign")}
        return (
            table
            | others
            | {
                "holder": owner,
                "delegate": HOLDING | {a: "delegate_hands_back" for a in decided_by_owner},
            }
        )
    if state == "countersign_before":
        agree = HOLDING | {a: "countersign_agree_only" for a in decided_by_owner + ("copy",)}
        return table | others | {"holder": HELD_ELSEWHERE, "before": agree | {"release": "countersigning"}}
    # countersign_after: the holder approved; the approver added after them decides now
    turn = HOLDING | {a: "countersigning" for a in ("transfer", "delegate", "countersign", "release")}
    return table | others | {"holder": HELD_ELSEWHERE, "after": turn}


def _users(session_factory, world, admin) -> dict[str, int]:
    """Add the city's extra staff, give everyone a password, and name each role's user."""
    with session_factory() as s, s.begin():
        city = s.get(User, world["410400-approver"]).organisation_id
        extra = {}
        for name, role in (
            ("candidate", "approver"),
            ("delegate", "reviewer"),
            ("before", "reviewer"),
            ("after", "reviewer"),
        ):
            user = User(
                username=f"matrix-{name}",
                password_hash="x",
                display_name=f"市{name}",
                organisation_id=city,
                roles=role,
                created_at=s.get(User, world["410400-approver"]).created_at,
            )
            s.add(user)
            s.flush()
            extra[name] = user.id
        s.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    return {
        "holder": world["410400-approver"],
        **extra,
        "copy": world["410000-approver"],
        "applicant": world["applicant"],
        "handler": world["410422-reviewer"],
        "colleague": world["410400-reviewer"],
        "other_region": world["410423-approver"],
        "admin": admin.id,
    }


def _bring(rt, actor_of, session_factory, state: str) -> tuple[int, int]:
    """Bring a demo application to the city step in the given state; return (task id, instance id)."""
    iid = submit(rt, actor_of, session_factory)
    complete_task(rt, actor_of("handler"), only_open_task(session_factory, iid).id, {}, "县级同意")
    task = only_open_task(session_factory, iid).id
    holder = actor_of("holder")
    copy_task(rt, holder, task, [actor_of("copy").id])
    if state != "unclaimed":
        claim_task(rt, holder, task)
    if state == "delegated":
        delegate_task(rt, holder, task, actor_of("delegate").id, "请协助核对")
    elif state == "countersign_before":
        countersign_task(rt, holder, task, actor_of("before").id, "before", "请先核对")
    elif state == "countersign_after":
        countersign_task(rt, holder, task, actor_of("after").id, "after", "请最后把关")
        complete_task(rt, holder, task, {}, "同意")
    elif state == "closed":
        complete_task(rt, holder, task, {}, "同意")
    return task, iid


def _command(action: str, rt, who, task: int, iid: int, someone: int):
    """Return a call of the action's engine command by `who`, with input that would otherwise be valid."""
    return {
        "approve": lambda: complete_task(rt, who, task, {}, "意见"),
        "return": lambda: return_task(rt, who, task, "意见"),
        "reject": lambda: reject_task(rt, who, task, "意见"),
        "transfer": lambda: transfer_task(rt, who, task, someone, "意见"),
        "delegate": lambda: delegate_task(rt, who, task, someone, "意见"),
        "countersign": lambda: countersign_task(rt, who, task, someone, "after", "意见"),
        "copy": lambda: copy_task(rt, who, task, [someone]),
        "urge": lambda: urge_task(rt, who, task),
        "claim": lambda: claim_task(rt, who, task),
        "release": lambda: unclaim_task(rt, who, task),
        "reassign": lambda: reassign_task(rt, who, task, someone, "意见"),
        "terminate": lambda: terminate_instance(rt, who, iid, "意见"),
        "withdraw": lambda: withdraw_instance(rt, who, iid),
    }[action]


API = {  # action -> (path under the task, what the command answers a hidden task with)
    "approve": "complete",
    "return": "return",
    "reject": "reject",
    "transfer": "transfer",
    "delegate": "delegate",
    "countersign": "countersign",
    "copy": "cc",
    "urge": "urge",
    "claim": "claim",
    "release": "unclaim",
    "reassign": "reassign",
    "terminate": "terminate",
}


def _command_code(action: str, reason: str) -> str:
    """Return the code the command refuses with: one who may not see the task is told it does not exist.

    terminate_instance works on an instance, not a task: it answers a non-administrator admin_only.
    """
    if action == "terminate" and reason in permissions.HIDDEN:
        return "admin_only"
    return "not_found" if reason in permissions.HIDDEN else reason


@pytest.mark.parametrize("state", STATES)
def test_permission_matrix(rt, session_factory, world, admin, database_url, clock, state):
    users = _users(session_factory, world, admin)

    def actor_of(role: str):
        name = {"410422-reviewer": "handler", "applicant": "applicant"}.get(role, role)
        with session_factory() as s:
            return actor_for(s, users[name])

    task, iid = _bring(rt, actor_of, session_factory, state)
    trail = audit_actions(session_factory, iid)
    status = instance(session_factory, iid).status
    table = expected(state)
    app = create_app(
        {"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "matrix", "SCHEDULER_ENABLED": False}
    )
    app.extensions["ceflow.runtime"].clock = clock  # the same day as the engine's commands
    wrong = []
    someone = users["colleague"]
    try:
        for role in ROLES:
            who, want = actor_of(role), table[role]
            with session_factory() as s:
                found = permissions.permissions_for(s, who, [task], clock()).get(task)
            got = dict(found.refused) if found else HIDDEN
            got |= {a: None for a in (found.allowed if found else ())}
            if got != want:
                wrong.append((role, "decide", {a: (got[a], want[a]) for a in ACTIONS if got[a] != want[a]}))
            client = _sign_in(app, role, users[role])
            detail = client.get(f"/api/inbox/tasks/{task}")
            hidden = want["approve"] == "not_found"
            if hidden != (detail.status_code == 404):
                wrong.append((role, "api detail", detail.status_code))
            elif not hidden:
                actions = detail.get_json()["actions"]
                api_got = {a: None for a in actions["allowed"]} | actions["refused"]
                if api_got != want:
                    wrong.append((role, "api detail", {a: (api_got.get(a), want[a]) for a in ACTIONS}))
            token = client.get("/api/inbox/csrf").get_json()["csrf_token"]
            for action, reason in want.items():
                if reason is None or reason == "already_claimed":  # claiming one's own task again is a no-op
                    continue
                try:
                    _command(action, rt, who, task, iid, someone)()
                    wrong.append((role, action, "command allowed", reason))
                except EngineError as error:
                    if getattr(error, "code", None) != _command_code(action, reason):
                        wrong.append((role, action, "command", getattr(error, "code", error), reason))
                if action in API:
                    body = {
                        "opinion": "意见",
                        "to_user_id": someone,
                        "position": "after",
                        "user_ids": [someone],
                    }
                    answer = client.post(
                        f"/api/inbox/tasks/{task}/{API[action]}", json=body, headers={"X-CSRFToken": token}
                    )
                    if answer.status_code < 400 or answer.get_json().get("reason") != reason.replace(
                        "not_involved", "not_found"
                    ):
                        wrong.append((role, action, "api", answer.status_code, answer.get_json(), reason))
    finally:
        with app.app_context():
            db.engine.dispose()
    assert wrong == [], "\n".join(map(str, wrong))
    assert audit_actions(session_factory, iid) == trail  # no refusal wrote anything
    assert instance(session_factory, iid).status == status


def _sign_in(app, role: str, user_id: int):
    client = app.test_client()
    with app.app_context():
        username = db.session.get(User, user_id).username
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302, role
    return client


def test_a_delegate_cannot_reject_or_return_and_the_owner_still_decides(rt, actor, session_factory):
    iid = submit(rt, actor, session_factory)
    county = only_open_task(session_factory, iid)
    reviewer, helper = actor("410422-reviewer"), actor("410422-approver")
    claim_task(rt, reviewer, county.id)
    delegate_task(rt, reviewer, county.id, helper.id, "请核对")
    for command in (reject_task, return_task):
        with pytest.raises(EngineError) as refused:
            command(rt, helper, county.id, "不行")
        assert refused.value.code == "delegate_hands_back"
    assert instance(session_factory, iid).status == "running"
    complete_task(rt, helper, county.id, {}, "已核对")  # finish and hand back
    back = only_open_task(session_factory, iid)
    assert (back.assignee_id, back.owner_id) == (reviewer.id, None)
    reject_task(rt, reviewer, county.id, "不符合条件")
    assert instance(session_factory, iid).status == "rejected"
