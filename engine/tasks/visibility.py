"""Who may view a task or its instance, and who may act on it: the one rule pages, API and commands share.

A task is worked by an administrator (whose jurisdiction is everything, `jurisdiction.scope_for`),
its holder, its owner (the delegator) or one of its candidates. It is read, besides, by those it was
copied to (抄送), by the instance's initiator and by anyone who handled a task of the same instance.
Everyone else is told it does not exist (404), whatever id they guess.
"""

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import aliased

from domain.accounts.users import Actor
from engine.errors import TaskNotFound
from engine.runtime.models import HumanTask
from engine.runtime.models import ProcessInstance
from engine.runtime.models import TaskCc


def may_act(row, actor: Actor) -> bool:
    """Say whether the actor may work the task: an administrator, its holder or owner, or a candidate.

    `row` is a human_task record or a command's TaskRow. Whether the task is still open is the
    caller's question: a command refuses a closed one as already handled, a page offers no action.
    """
    if actor.is_admin or actor.id in (row.assignee_id, row.owner_id):
        return True
    return bool(set(row.candidates.split()) & set(actor.principals))


def may_view(session: Session, row, actor: Actor) -> bool:
    """Say whether the actor may read the task: who may act, a copy's reader, the initiator, a handler."""
    if may_act(row, actor) or row.completed_by_id == actor.id:
        return True
    return any(relations(session, row, actor))


def relations(session: Session, row, actor: Actor) -> tuple[bool, bool, bool]:
    """Return (copied to the actor, started by the actor, another step handled by the actor)."""
    return relations_of(session, actor, [row])[row.id]


def relations_of(session: Session, actor: Actor, rows) -> dict[int, tuple[bool, bool, bool]]:
    """Return for each task row (id, instance_id): whether it was copied to the actor, whether the actor
    started its instance, and whether the actor handled another step of it.

    The readers' rule, shared by `may_view` and the urge rule (engine.tasks.permissions). One
    statement, whatever the number of rows: a page asks it for each of its rows.
    """
    copied, started, handled = relation_columns(actor)
    found = session.execute(
        select(HumanTask.id, copied, started, handled).where(HumanTask.id.in_([r.id for r in rows]))
    )
    related = {task_id: (bool(c), bool(s), bool(h)) for task_id, c, s, h in found}
    return {r.id: related.get(r.id, (False, False, False)) for r in rows}


def relation_columns(actor: Actor):
    """Return the actor's three relations to a human_task row as EXISTS columns correlated to it.

    (copied to the actor, instance started by the actor, another step of the instance handled by
    the actor): a caller that reads task rows anyway selects them beside its own columns.
    """
    other = aliased(HumanTask)
    task, instance = HumanTask, aliased(ProcessInstance)  # not the caller's instance, if it joins one
    copied = exists().where(TaskCc.human_task_id == task.id, TaskCc.principal.in_(actor.principals))
    started = exists().where(instance.id == task.instance_id, instance.initiator_id == actor.id)
    handled = exists().where(
        other.instance_id == task.instance_id, other.completed_by_id == actor.id, other.id != task.id
    )
    return copied.label("copied"), started.label("started"), handled.label("handled")


def viewable_task_instance(session: Session, actor: Actor, task_id: int) -> int:
    """Return the instance id of a task the actor may read; raise TaskNotFound (404) otherwise."""
    row = session.get(HumanTask, task_id)
    if row is None or not may_view(session, row, actor):
        raise TaskNotFound(task_id)
    return row.instance_id


def is_copied_to(session: Session, task_id: int, actor: Actor) -> tuple[bool, bool]:
    """Return (whether the task was copied to one of the actor's principals, whether a copy is unread)."""
    rows = session.execute(
        select(TaskCc.read_at).where(TaskCc.human_task_id == task_id, TaskCc.principal.in_(actor.principals))
    ).all()
    return bool(rows), any(read_at is None for (read_at,) in rows)


def may_view_instance(session: Session, actor: Actor, instance_id: int) -> bool:
    """Say whether the actor may read an instance (diagram, history, files): who may view one of its tasks."""
    initiator = session.execute(
        select(ProcessInstance.initiator_id).where(ProcessInstance.id == instance_id)
    ).first()
    if initiator is None:
        return False
    if actor.is_admin or initiator[0] == actor.id:
        return True
    rows = session.execute(
        select(
            HumanTask.id,
            HumanTask.assignee_id,
            HumanTask.owner_id,
            HumanTask.candidates,
            HumanTask.completed_by_id,
        ).where(HumanTask.instance_id == instance_id)
    ).all()
    if any(may_act(row, actor) or row.completed_by_id == actor.id for row in rows):
        return True
    task_ids = [row.id for row in rows]
    copied = exists().where(TaskCc.human_task_id.in_(task_ids), TaskCc.principal.in_(actor.principals))
    return bool(task_ids) and bool(session.scalar(select(copied)))
