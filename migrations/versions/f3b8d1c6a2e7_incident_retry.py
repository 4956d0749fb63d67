"""incident_retry: an incident's state, its tries, who resolved it, and the input to retry it with

An administrator retries a failed step once its cause is fixed, or ends the instance; an instance has
one open incident at a time, whose tries count every failed run of the step.

Revision ID: f3b8d1c6a2e7
Revises: e4a9c3b7d2f1
Create Date: 2026-12-06 15:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f3b8d1c6a2e7"
down_revision = "e4a9c3b7d2f1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="open", nullable=False))
        batch_op.add_column(sa.Column("step", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("tries", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("resolved_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replay", sa.JSON(), nullable=True))
    # incidents recorded before were never mended: resolved only if someone set the time by hand
    op.execute("UPDATE incident SET state = 'resolved' WHERE resolved_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("replay")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("tries")
        batch_op.drop_column("step")
        batch_op.drop_column("state")
