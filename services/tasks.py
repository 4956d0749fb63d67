"""Task use cases: act on one task, act on many in bulk. The page, the bulk form and the API call these."""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from domain.accounts.users import Actor
from engine.errors import EngineError
from engine.inbox import queries as inbox
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.tasks import assignment
from engine.tasks import commands
from engine.tasks import copies
from engine.tasks import countersign
from engine.tasks import permissions
from engine.tasks import urge
from engine.tasks import visibility
from forms.catalog import form_catalog

BULK_ACTIONS = ("approve", "return")
# refusals the command itself reports best: it names who handled or holds the task, and when
_NAMED = frozenset({"task_closed", "held_by_other"})


@dataclass(frozen=True)
class TaskInput:
    """What an action was given: an opinion, form data, a user or users, a position, a step, a note."""

    opinion: str = ""
    data: dict | None = None
    to_user_id: int | None = None
    user_ids: list = field(default_factory=list)  # checked by the copy command
    position: str | None = None
    to_step: str | None = None
    note: str = ""


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one task of a bulk action: done, or refused with a reason code or an error."""

    task_id: int
    label: str
    ok: bool
    reason: str | None = None
    error: EngineError | None = None


def act_on_task(rt: Runtime, actor: Actor, action: str, task_id: int, given: TaskInput):
    """Run one action on a task as its engine command (which checks the actor may); return its result."""
    opinion = given.opinion.strip()
    run: dict[str, Callable] = {
        "claim": lambda: assignment.claim_task(rt, actor, task_id),
        "release": lambda: assignment.unclaim_task(rt, actor, task_id),
        "approve": lambda: commands.complete_task(rt, actor, task_id, given.data or {}, opinion),
        "return": lambda: commands.return_task(rt, actor, task_id, opinion, given.to_step),
        "reject": lambda: commands.reject_task(rt, actor, task_id, opinion),
        "transfer": lambda: assignment.transfer_task(rt, actor, task_id, given.to_user_id, opinion),
        "delegate": lambda: assignment.delegate_task(rt, actor, task_id, given.to_user_id, opinion),
        "reassign": lambda: assignment.reassign_task(rt, actor, task_id, given.to_user_id, opinion),
        "countersign": lambda: countersign.countersign_task(
            rt, actor, task_id, given.to_user_id, given.position or "", opinion
        ),
        "terminate": lambda: commands.terminate_instance(
            rt, actor, _instance_of(rt, actor, task_id), opinion
        ),
        "urge": lambda: urge.urge_task(rt, actor, task_id, given.note or opinion),
        "copy": lambda: copies.copy_task(rt, actor, task_id, given.user_ids, given.note),
    }
    return run[action]()


def _instance_of(rt: Runtime, actor: Actor, task_id: int) -> int:
    """Return the instance of a task the actor may see (TaskNotFound otherwise), without a workflow load."""
    with unit_of_work(rt, write=False) as session:
        return visibility.viewable_task_instance(session, actor, task_id)


def act_in_bulk(
    rt: Runtime, actor: Actor, action: str, task_ids: list[int], opinion: str
) -> list[BulkOutcome]:
    """Act on each task in its own command (own transaction, own audit); a refusal undoes no other.

    Each task is checked first with the engine's permissions, so a refusal names its reason code.
    """
    task_ids = list(dict.fromkeys(task_ids))
    with unit_of_work(rt, write=False) as session:
        allowed = permissions.permissions_for(session, actor, task_ids, rt.clock())
        known = inbox.workable_summaries(session, actor, task_ids)
    outcomes = []
    for task_id in task_ids:
        label, form_key = known.get(task_id, (f"#{task_id}", None))
        found = allowed.get(task_id)
        reason = found.reason(action) if found is not None else "not_found"
        if reason is None and action == "approve" and form_key is not None and not opinion_only(form_key):
            reason = "own_form"
        if reason is not None and reason not in _NAMED:
            outcomes.append(BulkOutcome(task_id, label, False, reason))
            continue
        try:
            act_on_task(rt, actor, action, task_id, TaskInput(opinion=opinion))
        except EngineError as error:
            outcomes.append(BulkOutcome(task_id, label, False, getattr(error, "code", None), error))
            continue
        outcomes.append(BulkOutcome(task_id, label, True))
    return outcomes


def opinion_only(form_key: str) -> bool:
    """Say whether a step's form asks for nothing but an opinion, so it may be approved in bulk."""
    form_class = form_catalog().get(form_key)
    return form_class is not None and set(form_class(meta={"csrf": False})._fields) <= {"opinion"}
