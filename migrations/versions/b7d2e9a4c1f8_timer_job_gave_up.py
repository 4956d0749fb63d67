"""timer_job.gave_up_at: a failing timer is retried with backoff, then parked as an incident

Before, a failing timer was claimed again after every lease (two minutes) for ever, and each failure
counted a try of its incident. Now it is tried after 1, 5, 15 and 60 minutes; then this column parks
it until an administrator retries the incident.

Revision ID: b7d2e9a4c1f8
Revises: a1c4e7f2b9d3
Create Date: 2026-12-06 16:50:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "b7d2e9a4c1f8"
down_revision = "a1c4e7f2b9d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("timer_job") as batch:
        batch.add_column(sa.Column("gave_up_at", domain.base.UtcDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("timer_job") as batch:
        batch.drop_column("gave_up_at")
