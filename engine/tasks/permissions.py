"""Which actions an actor may take on a task now, and why not the others: the one rule of the system.

`decide` is a pure function of a task's `Standing` (SQL facts about the task row, its instance and
the actor: never a workflow load). Commands enforce it with `enforce`; the task page, the inbox
rows, bulk actions and the JSON API show `task_permissions` / `permissions_for`, and nothing else.

Delegation (委派) follows its usual meaning: the delegate handles the task (approve = finish and hand
back, with form data and an opinion) and it goes back to the owner, who decides. An approver added
before the holder (加签) may only agree. Nobody urges a step they hold themselves.
"""

import functools
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.accounts.principals import parse_principals
from domain.accounts.users import Actor
from domain.calendar.deadlines import china_day
from domain.organisations.records import load_regions
from engine.diagrams.settings import RoleRule
from engine.diagrams.settings import starters
from engine.errors import AlreadyUrgedToday
from engine.errors import NotAllowed
from engine.errors import OpinionRequired
from engine.errors import TaskAlreadyHandled
from engine.errors import TaskHeldByOther
from engine.errors import TaskNotFound
from engine.errors import UnknownProcess
from engine.runtime.definitions import check_process_key
from engine.runtime.definitions import newest_definition_ids
from engine.runtime.definitions import specs_for
from engine.runtime.models import AuditEvent
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskCountersign
from engine.runtime.models import TaskUrge
from engine.runtime.task_rows import assignee_name
from engine.tasks.visibility import relation_columns

ACTIONS = (
    "approve",
    "return",
    "reject",
    "transfer",
    "delegate",
    "countersign",
    "copy",
    "urge",
    "claim",
    "release",
    "reassign",
    "terminate",
    "withdraw",
)
# the actions a step's diagram may switch off (its `actions` property); approving is always possible
STEP_GOVERNED = frozenset({"return", "reject", "transfer", "delegate", "countersign", "withdraw"})
# refusals a command reports as "no such task" (404): one who may not see the task learns nothing of it
HIDDEN = frozenset({"not_found", "not_involved", "initiator_only"})
# Every reason an action may be refused for, as the task page, bulk results and the API name it.
REASON_CODES = (
    "admin_only",
    "already_claimed",
    "already_urged_today",
    "claim_first",
    "countersign_agree_only",
    "countersigning",
    "delegate_hands_back",
    "delegated_away",
    "held_by_other",
    "initiator_only",
    "no_earlier_step",
    "no_queue",
    "not_found",
    "not_holder",
    "not_involved",
    "opinion_required",
    "own_form",
    "own_step",
    "process_ended",
    "read_only",
    "step_disallows",
    "task_closed",
)


@dataclass(frozen=True)
class Step:
    """An earlier step a task can be returned to."""

    bpmn_id: str
    name: str


@dataclass(slots=True)  # made for every command: slots, not frozen, keep it cheap; nobody changes it
class Standing:
    """What the rule reads about one task and one actor: columns of its row and instance, and a few facts."""

    task_id: int
    instance_id: int
    state: str
    instance_status: str | None  # None when not read: only terminate, withdraw and urge need it
    allowed_actions: frozenset[str]
    opinion_required: frozenset[str]
    candidates: str
    assignee_id: int | None
    owner_id: int | None
    completed_by_id: int | None
    initiator_id: int | None
    copied: bool = False  # the task was copied to the actor (抄送)
    started: bool = False  # the actor started the instance
    handled: bool = False  # the actor handled another step of the instance
    my_countersign: str | None = None  # "before" or "after": the actor's active countersign (加签)
    urged_today: bool = False
    withdrawable: bool = False  # every open step of the instance allows withdrawing


@dataclass(frozen=True)
class TaskPermissions:
    """The actions an actor may take on a task now; every other action with its reason code."""

    task_id: int
    allowed: frozenset[str]
    refused: Mapping[str, str]
    opinion_required: frozenset[str] = frozenset()
    return_steps: tuple[Step, ...] = ()
    delegated: bool = False  # the actor handles the task for its owner: approving hands it back
    countersign_turn: str | None = None  # "before"/"after": the actor approves as an added approver
    own_application: bool = False  # the actor started the instance: approving its step resubmits it

    def may(self, action: str) -> bool:
        """Say whether the action is allowed."""
        return action in self.allowed

    def reason(self, action: str) -> str | None:
        """Return why the action is refused, or None when it is allowed."""
        return self.refused.get(action)


def decide(actor: Actor, standing: Standing) -> TaskPermissions:
    """Return what the actor may do with the task described by `standing`, and why not the rest."""
    refused = {action: why for action in ACTIONS if (why := refusal(actor, standing, action)) is not None}
    holder = standing.assignee_id == actor.id
    return TaskPermissions(
        task_id=standing.task_id,
        allowed=frozenset(a for a in ACTIONS if a not in refused),
        refused=MappingProxyType(refused),
        opinion_required=standing.opinion_required,
        delegated=holder and standing.owner_id is not None,
        countersign_turn=standing.my_countersign,
        own_application=standing.initiator_id is not None and standing.initiator_id == actor.id,
    )


def may_act(actor: Actor, standing: Standing) -> bool:
    """Say whether the actor may work the task: an administrator, its holder or owner, or a candidate."""
    if actor.is_admin or actor.id in (standing.assignee_id, standing.owner_id):
        return True
    return bool(set(standing.candidates.split()) & set(actor.principals))


def refusal(actor: Actor, s: Standing, action: str) -> str | None:
    """Return why the actor may not take the action on the task now, or None when they may."""
    acts = may_act(actor, s)
    if not (acts or s.completed_by_id == actor.id or s.copied or s.started or s.handled):
        return "not_found"
    if action == "urge":
        return _urge_refusal(actor, s)
    if action == "terminate":
        return terminate_refusal(actor, s.instance_status)
    if action == "withdraw":
        return withdraw_refusal(actor, s.initiator_id, s.instance_status, s.withdrawable)
    if not acts:
        return "read_only"
    holder = s.assignee_id == actor.id
    if action == "copy":  # information only: also on a closed task, but not for an approver who only agrees
        return "countersign_agree_only" if s.my_countersign == "before" else None
    if s.state != "open":
        return "task_closed"
    if action == "reassign":
        return None if actor.is_admin else "admin_only"
    if action == "claim":
        if holder:
            return "already_claimed"
        return "held_by_other" if s.assignee_id is not None else None
    if action == "release":
        return _release_refusal(actor, s, holder)
    if s.assignee_id is not None and not holder:
        return "delegated_away" if s.owner_id == actor.id else "held_by_other"
    if action == "approve":
        return None
    if holder and s.owner_id is not None:
        return "delegate_hands_back"
    if s.my_countersign == "before":
        return "countersign_agree_only"
    if s.my_countersign == "after" and action in ("transfer", "delegate", "countersign"):
        return "countersigning"
    if action in STEP_GOVERNED and action not in s.allowed_actions:
        return "step_disallows"
    if action == "countersign" and not holder:
        return "claim_first"
    return None


def _release_refusal(actor: Actor, s: Standing, holder: bool) -> str | None:
    if not holder:
        return "not_holder"
    if s.owner_id is not None:
        return "delegate_hands_back"
    if s.my_countersign is not None:
        return "countersigning"
    if s.candidates == f"u:{actor.id}":
        return "no_queue"
    return None


def _urge_refusal(actor: Actor, s: Standing) -> str | None:
    """Urge (催办): the applicant, an earlier handler or an admin, once a day, never one's own step."""
    if s.state != "open":
        return "task_closed"
    if s.assignee_id == actor.id:
        return "own_step"
    if not (actor.is_admin or s.started or s.handled):
        return "not_involved"
    return "already_urged_today" if s.urged_today else None


def terminate_refusal(actor: Actor, instance_status: str) -> str | None:
    """Say why the actor may not terminate a process: administrators only, and only a running one."""
    if not actor.is_admin:
        return "admin_only"
    return None if instance_status == "running" else "process_ended"


def withdraw_refusal(actor: Actor, initiator_id: int | None, instance_status: str, withdrawable: bool):
    """Say why the actor may not withdraw an application: the applicant's, pending, at a step allowing it."""
    if initiator_id != actor.id:
        return "initiator_only"
    if instance_status != "running":
        return "process_ended"
    return None if withdrawable else "step_disallows"


# --- refusing ------------------------------------------------------------------------------

_PARAMS = {"step_disallows": "action", "admin_only": "action"}


def refuse(reason: str, action: str, task_id: int | None = None, by: Callable[[], str | None] = lambda: None):
    """Raise the error a command answers a refusal with; `by` names the holder for held_by_other."""
    if reason in HIDDEN:
        raise TaskNotFound(task_id)
    if reason == "task_closed":
        raise TaskAlreadyHandled(by(), None)
    if reason == "held_by_other":
        raise TaskHeldByOther(by())
    if reason == "already_urged_today":
        raise AlreadyUrgedToday()
    if reason in _PARAMS:
        raise NotAllowed(reason, action=action)
    raise NotAllowed(reason)


def enforce(session: Session, actor: Actor, task_id: int, action: str, now: datetime) -> Standing:
    """Refuse the action unless the actor may take it on the task now; return the task's standing."""
    standing = standings(session, actor, [task_id], now).get(task_id)
    if standing is None:
        raise TaskNotFound(task_id)
    _enforce_standing(lambda: session, actor, standing, action)
    return standing


# Actions whose rule needs no more than the task row when the actor works the task (holder, owner,
# candidate, administrator): urge, terminate and withdraw read the instance and the actor's relations.
_ROW_ACTIONS = frozenset(ACTIONS) - {"urge", "terminate", "withdraw"}


def enforce_on_row(
    session_of: Callable[[], Session], actor: Actor, row, action: str, now: datetime, turns=True
):
    """Refuse the action unless the actor may take it now, deciding from the task row a command read.

    The same rule as `enforce`, without its queries on a command's common path: one who works the task
    needs no relations read, and an active countersign is looked up only where `turns` says there may
    be one (the command's read-ahead saw open countersigns). `session_of()` gives the command's session.
    """
    if action not in _ROW_ACTIONS or not may_act(actor, row):
        return enforce(session_of(), actor, row.id, action, now)
    allowed = action_set(row.allowed_actions)
    turn = None
    if turns and "countersign" in allowed:
        turn = _countersign_turns(session_of(), actor, [row.id]).get(row.id)
    standing = Standing(
        task_id=row.id,
        instance_id=row.instance_id,
        state=row.state,
        instance_status=None,
        allowed_actions=allowed,
        opinion_required=action_set(row.opinion_required),
        candidates=row.candidates,
        assignee_id=row.assignee_id,
        owner_id=row.owner_id,
        completed_by_id=row.completed_by_id,
        initiator_id=None,
        my_countersign=turn,
    )
    _enforce_standing(session_of, actor, standing, action, row)
    return standing


def _enforce_standing(
    session_of: Callable[[], Session], actor: Actor, standing: Standing, action: str, row=None
) -> None:
    """Raise why the actor may not take the action; the session is made only to word a refusal."""
    reason = refusal(actor, standing, action)
    if reason is None:
        return
    if reason == "task_closed":
        closed = row if row is not None else session_of().get(HumanTask, standing.task_id)
        raise TaskAlreadyHandled(closed.completed_by_name, closed.completed_at)
    refuse(reason, action, standing.task_id, lambda: assignee_name(session_of(), standing.assignee_id))


def require_opinion(standing: Standing, action: str, opinion: str | None) -> None:
    """Refuse an empty opinion where the task's step asks for one with this action."""
    if action in standing.opinion_required and not (opinion or "").strip():
        raise OpinionRequired(action)


@functools.lru_cache(maxsize=256)
def action_set(listed: str) -> frozenset[str]:
    """Return a task row's comma list of actions as a set; a handful of distinct lists, parsed once each."""
    return frozenset(filter(None, listed.split(",")))


# --- reading the facts ---------------------------------------------------------------------


def task_permissions(session: Session, actor: Actor, task_id: int, now: datetime, step_name=None):
    """Return the permissions of one task with its return targets; TaskNotFound if the actor may not see it.

    `step_name(instance_id, bpmn_id)` names a step that has no row (a first step submitted with the start).
    """
    standing = standings(session, actor, [task_id], now).get(task_id)
    if standing is None or refusal(actor, standing, "approve") == "not_found":
        raise TaskNotFound(task_id)
    found = decide(actor, standing)
    if not found.may("return"):
        return found
    steps = return_steps(session, standing, step_name)
    if not steps:
        refused = dict(found.refused) | {"return": "no_earlier_step"}
        return replace(found, allowed=found.allowed - {"return"}, refused=MappingProxyType(refused))
    return replace(found, return_steps=steps)


def permissions_for(session: Session, actor: Actor, task_ids, now: datetime) -> dict[int, TaskPermissions]:
    """Return the permissions of many tasks (inbox rows, bulk actions) in a handful of queries.

    Tasks the actor may not see are left out.
    """
    found = {}
    for task_id, standing in standings(session, actor, list(task_ids), now).items():
        if refusal(actor, standing, "approve") != "not_found":
            found[task_id] = decide(actor, standing)
    return found


_T, _I, _C, _U = HumanTask, ProcessInstance, TaskCountersign, TaskUrge


def standings(session: Session, actor: Actor, task_ids: list[int], now: datetime) -> dict[int, Standing]:
    """Read the standing of each task: its row and instance, and the actor's relations to it."""
    if not task_ids:
        return {}
    rows = session.execute(
        select(
            _T.id,
            _T.instance_id,
            _T.state,
            _I.status,
            _T.allowed_actions,
            _T.opinion_required,
            _T.candidates,
            _T.assignee_id,
            _T.owner_id,
            _T.completed_by_id,
            _I.initiator_id,
            *relation_columns(actor),
            exists().where(_U.human_task_id == _T.id, _U.day == china_day(now)).label("urged"),
        )
        .join(_I, _I.id == _T.instance_id)
        .where(_T.id.in_(task_ids))
    ).all()
    if not rows:
        return {}
    turns = _countersign_turns(session, actor, [r.id for r in rows if "countersign" in r.allowed_actions])
    mine = [r.instance_id for r in rows if r.initiator_id == actor.id]
    withdrawable = _withdrawable(session, mine)
    return {
        r.id: Standing(
            task_id=r.id,
            instance_id=r.instance_id,
            state=r.state,
            instance_status=r.status,
            allowed_actions=action_set(r.allowed_actions),
            opinion_required=action_set(r.opinion_required),
            candidates=r.candidates,
            assignee_id=r.assignee_id,
            owner_id=r.owner_id,
            completed_by_id=r.completed_by_id,
            initiator_id=r.initiator_id,
            copied=r.copied,
            started=r.started,
            handled=r.handled,
            my_countersign=turns.get(r.id),
            urged_today=r.urged and r.state == "open",
            withdrawable=r.instance_id in withdrawable,
        )
        for r in rows
    }


def _countersign_turns(session: Session, actor: Actor, task_ids: list[int]) -> dict[int, str]:
    """Return the position of the actor's active countersign on each task that has one."""
    if not task_ids:
        return {}
    found = session.execute(
        select(_C.human_task_id, _C.position).where(
            _C.human_task_id.in_(task_ids), _C.open_user_id == actor.id, _C.state == "active"
        )
    )
    return dict(found.all())


def withdraw_reason(session: Session, actor: Actor, instance_id: int) -> str | None:
    """Say why the actor may not withdraw the application now, or None when they may (撤回)."""
    found = session.execute(select(_I.initiator_id, _I.status).where(_I.id == instance_id)).first()
    if found is None:
        return "not_found"
    withdrawable = instance_id in _withdrawable(session, [instance_id])
    return withdraw_refusal(actor, found.initiator_id, found.status, withdrawable)


def _withdrawable(session: Session, instance_ids: list[int]) -> set[int]:
    """Return the instances that have open steps, every one of which allows withdrawing."""
    if not instance_ids:
        return set()
    rows = session.execute(
        select(_T.instance_id, _T.allowed_actions).where(_T.instance_id.in_(instance_ids), _T.state == "open")
    ).all()
    allowing: dict[int, bool] = {}
    for instance_id, actions in rows:
        allowing[instance_id] = allowing.get(instance_id, True) and "withdraw" in actions.split(",")
    return {instance_id for instance_id, ok in allowing.items() if ok}


def return_steps(session: Session, standing: Standing, step_name=None) -> tuple[Step, ...]:
    """Return the earlier user steps of the task's instance it can go back to, first done first."""
    rows = session.execute(
        select(_T.completed_at, _T.id, _T.spec_name, _T.name).where(
            _T.instance_id == standing.instance_id, _T.state == "done"
        )
    ).all()
    finished = [tuple(row) for row in rows]
    events = session.execute(
        select(AuditEvent.created_at, AuditEvent.details).where(
            AuditEvent.instance_id == standing.instance_id, AuditEvent.action == "submit"
        )
    )
    for at, details in events:
        step = (details or {}).get("step")
        if step:  # a first step submitted with the start has no row
            finished.append((at, 0, step, None))
    current = session.scalar(select(_T.spec_name).where(_T.id == standing.task_id))
    steps: dict[str, Step] = {}
    for _at, _id, spec, name in sorted(finished, key=lambda f: (f[0], f[1])):
        if spec != current and spec not in steps:
            named = name or (step_name(standing.instance_id, spec) if step_name else None) or spec
            steps[spec] = Step(spec, named)
    return tuple(steps.values())


# --- what a role may use and start -----------------------------------------------------------
# The same rule for the menu, the home page's actions, the processes page and the start command:
# a page offers what `uses` names and `may_start` allows, and the start command enforces the latter.

PERSON, ADMIN = "person", "admin"


@dataclass(frozen=True)
class Seat:
    """Where an actor sits: its organisation's kind, level and roles; or a person; or an administrator."""

    kind: str | None  # an organisation kind, "person" or "admin"; None for an account without either
    level: str | None
    roles: frozenset[str]


def seat_of(session: Session, actor: Actor) -> Seat:
    """Return where the actor sits, reading the level of its organisation's region."""
    if actor.is_admin:
        return Seat(ADMIN, None, frozenset())
    if actor.organisation_kind is None:
        return Seat(PERSON if actor.person_id is not None else None, None, frozenset())
    regions = load_regions(session)
    region = regions.get(actor.region_code or "")
    roles = frozenset(parse_principals(actor.principals).roles)
    return Seat(actor.organisation_kind, region.level if region else None, roles)


# Each use (a page or an action a home and a menu offer) and the seats that have it: kind, level, role.
USES: Mapping[str, tuple[RoleRule, ...]] = MappingProxyType(
    {
        "inbox": tuple(RoleRule(kind) for kind in ("hrss", "authority", "employer", "institution", PERSON)),
        "my_applications": tuple(RoleRule(kind) for kind in ("authority", "employer", "institution", PERSON)),
        "oversight": (RoleRule(ADMIN),),
        "process_versions": (RoleRule(ADMIN),),
        "holidays": (RoleRule(ADMIN),),
        "incidents": (RoleRule(ADMIN),),
        "organisations": (RoleRule(ADMIN), RoleRule("hrss"), RoleRule("authority")),
        "persons": (RoleRule(ADMIN), RoleRule("hrss"), RoleRule("authority"), RoleRule("employer")),
        "policy": tuple(RoleRule(kind) for kind in ("hrss", "authority", "employer", "institution", PERSON)),
        "policy_edit": (RoleRule("hrss", "city"),),
        "supervision": (RoleRule(ADMIN), RoleRule("hrss"), RoleRule("authority"), RoleRule("employer")),
        "courses": tuple(RoleRule(kind) for kind in ("hrss", "authority", "employer", "institution", PERSON))
        + (RoleRule(ADMIN),),
        "my_courses": (RoleRule(PERSON),),
        "file_course": (RoleRule("institution", None, "admin"), RoleRule("authority", None, "admin")),
        "enrol_persons": (RoleRule("employer", None, "hr"),),
        "number_ranges": (
            RoleRule("hrss"),
            RoleRule("employer", None, "admin"),
            RoleRule("employer", None, "hr"),
        ),
        "review_organisations": (RoleRule("hrss", None, "reviewer"),),
        "review_persons": (RoleRule("hrss", None, "reviewer"), RoleRule("employer", None, "hr")),
        "register_person": (RoleRule("employer", None, "hr"), RoleRule("employer", None, "admin")),
        "handover": (RoleRule("hrss", None, "admin"), RoleRule("authority", None, "admin"))
        + (RoleRule("employer", None, "admin"), RoleRule("institution", None, "admin")),
        "notices": tuple(RoleRule(kind) for kind in ("hrss", "authority", "employer", "institution", PERSON))
        + (RoleRule(ADMIN),),
    }
)


def seated(seat: Seat, rule: tuple[RoleRule, ...]) -> bool:
    """Say whether a seat matches any entry of a rule (a start rule, or a use's seats)."""
    return any(
        entry.kind == seat.kind
        and entry.level in (None, seat.level)
        and (entry.role is None or entry.role in seat.roles)
        for entry in rule
    )


def uses(seat: Seat, startable: frozenset[str] = frozenset()) -> frozenset[str]:
    """Return the pages and actions a seat may use; `processes` when it may start one or administers."""
    found = {use for use, rule in USES.items() if seated(seat, rule)}
    if startable or seat.kind == ADMIN:
        found.add("processes")
    return frozenset(found)


def start_rule(rt, session: Session, definition_id: int) -> tuple[RoleRule, ...]:
    """Return who may start a definition by hand, as its start event's `starters` property says."""
    spec = specs_for(rt, session, definition_id).spec
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent":
            return starters(task_spec.extensions.get("properties", {}))
    return ()


def startable(rt, session: Session, seat: Seat) -> frozenset[str]:
    """Return the process keys whose newest version the seat may start by hand."""
    found = newest_definition_ids(session).items()
    return frozenset(
        key for key, definition_id in found if seated(seat, start_rule(rt, session, definition_id))
    )


def enforce_start(rt, session: Session, actor: Actor, process_key: str) -> None:
    """Refuse (NotAllowed "start_refused") unless the actor may start the process's newest version by hand."""
    definition_id = newest_definition_ids(session).get(check_process_key(process_key))
    if definition_id is None:
        raise UnknownProcess(process_key)
    if not seated(seat_of(session, actor), start_rule(rt, session, definition_id)):
        raise NotAllowed("start_refused")
