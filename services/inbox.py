"""Inbox use cases: keep or delete a saved filter, mark a copy (抄送) read."""

from domain.accounts.users import Actor
from engine.inbox import saved_filters
from engine.inbox.list_query import ListQuery
from engine.inbox.saved_filters import SavedFilterView
from engine.runtime import Runtime
from engine.runtime import unit_of_work
from engine.tasks import copies


def save_filter(rt: Runtime, actor: Actor, name: str, query: ListQuery) -> SavedFilterView:
    """Keep a list query under a name for the actor (the same name replaces the old one); return it."""
    with unit_of_work(rt) as session:
        filter_id = saved_filters.save_filter(session, actor, name, query, rt.clock())
        return saved_filters.saved_filter(session, actor, filter_id)


def delete_filter(rt: Runtime, actor: Actor, filter_id: int) -> None:
    """Delete one of the actor's saved filters; raise SavedFilterNotFound for anyone else's."""
    with unit_of_work(rt) as session:
        saved_filters.delete_filter(session, actor, filter_id)


def read_copy(rt: Runtime, actor: Actor, cc_id: int) -> bool:
    """Mark a copy addressed to the actor read; False when it already was, LookupError if not theirs."""
    with unit_of_work(rt) as session:
        return copies.mark_cc_read(session, actor, cc_id, rt.clock())


def read_copies_of_task(rt: Runtime, actor: Actor, task_id: int) -> int:
    """Mark the actor's unread copies of a task read, as opening it does; return how many."""
    with unit_of_work(rt) as session:
        return copies.mark_copies_read(session, actor, task_id, rt.clock())
