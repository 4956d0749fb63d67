"""human_task.opinion_required: which actions need an opinion, projected from the diagram

The engine decides "an opinion is required" from the task row instead of parsing the diagram on
each request. Existing rows get the rule every step has had: return, reject, countersign and
reassign need an opinion (no bundled diagram sets opinionRequired).

Revision ID: c7e1d2a4f5b6
Revises: 5c1f0e7a9d42
Create Date: 2026-12-06 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c7e1d2a4f5b6'
down_revision = '5c1f0e7a9d42'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'human_task',
        sa.Column('opinion_required', sa.String(length=255), server_default='return,reject,countersign,reassign', nullable=False),
    )


def downgrade():
    with op.batch_alter_table('human_task') as batch:
        batch.drop_column('opinion_required')
