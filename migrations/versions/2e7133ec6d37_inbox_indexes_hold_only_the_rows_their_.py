"""inbox indexes hold only the rows their lists read

Every index a row sits in costs a page write in each transaction that inserts or changes the row.
The assignee indexes ("mine") now hold open tasks someone holds, "done by me" only tasks someone
completed, the business-key index only instances that have one; the unused task-uuid, definition
and duplicate initiator indexes go. Queue rows live in their primary key's tree on SQLite (WITHOUT
ROWID), so a queue row is one tree write, not two.

Revision ID: 2e7133ec6d37
Revises: b308ee0c52ff
Create Date: 2026-12-01 16:49:00.205193

"""
from alembic import op
import sqlalchemy as sa

import domain.base


# revision identifiers, used by Alembic.
revision = '2e7133ec6d37'
down_revision = 'b308ee0c52ff'
branch_labels = None
depends_on = None

HELD_OPEN = "state = 'open' AND assignee_id IS NOT NULL"
DONE_BY = "completed_by_id IS NOT NULL"
HAS_KEY = "business_key IS NOT NULL"
ASSIGNEE_INDEXES = {  # name: (columns now, columns before)
    'ix_human_task_assignee_open': (['assignee_id', 'due_sort', 'id'], ['assignee_id', 'state', 'due_sort', 'id']),
    'ix_human_task_assignee_created': (
        ['assignee_id', 'created_at', 'id'], ['assignee_id', 'state', 'created_at', 'id']
    ),
    'ix_human_task_assignee_priority': (
        ['assignee_id', sa.literal_column('priority DESC'), 'due_sort', 'id'],
        ['assignee_id', 'state', sa.literal_column('priority DESC'), 'due_sort', 'id'],
    ),
}


def _partial(where):
    return {'sqlite_where': sa.text(where), 'postgresql_where': sa.text(where)}


def _queue_rowid(with_rowid):
    """Rebuild the queue table with or without its rowid (SQLite only; PostgreSQL has no such thing)."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table(
        'human_task_candidate', recreate='always', table_kwargs={'sqlite_with_rowid': with_rowid}
    ):
        pass


def upgrade():
    op.drop_index('ix_human_task_task_uuid', table_name='human_task')
    for name, (columns, _before) in ASSIGNEE_INDEXES.items():
        op.drop_index(name, table_name='human_task')
        op.create_index(name, 'human_task', columns, **_partial(HELD_OPEN))
    op.drop_index('ix_human_task_done_by', table_name='human_task')
    op.create_index(
        'ix_human_task_done_by', 'human_task', ['completed_by_id', 'completed_at', 'id'], **_partial(DONE_BY)
    )
    op.drop_index('ix_process_instance_definition_id', table_name='process_instance')
    op.drop_index('ix_process_instance_initiator', table_name='process_instance')  # ix_..._started covers it
    op.drop_index('ix_process_instance_business_key', table_name='process_instance')
    op.create_index('ix_process_instance_business_key', 'process_instance', ['business_key'], **_partial(HAS_KEY))
    _queue_rowid(False)


def downgrade():
    _queue_rowid(True)
    op.drop_index('ix_process_instance_business_key', table_name='process_instance')
    op.create_index('ix_process_instance_business_key', 'process_instance', ['business_key'])
    op.create_index('ix_process_instance_initiator', 'process_instance', ['initiator_id', 'created_at'])
    op.create_index('ix_process_instance_definition_id', 'process_instance', ['definition_id'])
    op.drop_index('ix_human_task_done_by', table_name='human_task')
    op.create_index('ix_human_task_done_by', 'human_task', ['completed_by_id', 'completed_at', 'id'])
    for name, (_now, before) in ASSIGNEE_INDEXES.items():
        op.drop_index(name, table_name='human_task')
        op.create_index(name, 'human_task', before)
    op.create_index('ix_human_task_task_uuid', 'human_task', ['task_uuid'])
