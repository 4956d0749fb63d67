"""Attachment use case: attach a checked file to the open task the actor works."""

from domain.accounts.users import Actor
from domain.attachments import AttachmentView
from domain.attachments import Upload
from domain.attachments import add_attachment
from domain.files import FileStore
from engine.inbox.diagram_view import held_open_task
from engine.runtime import Runtime
from engine.runtime import unit_of_work


def attach_to_task(
    rt: Runtime, actor: Actor, task_id: int, store: FileStore, upload: Upload
) -> AttachmentView:
    """Store the file and record it on the task; TaskNotFound or NotAllowed unless the actor holds it."""
    with unit_of_work(rt) as session:
        held = held_open_task(session, actor, task_id)  # checked again here: the task may have closed since
        return add_attachment(session, store, upload, held.instance_id, held.id, actor, rt.clock())
