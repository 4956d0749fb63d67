"""scheduler_heartbeat: the time of each scheduler process's last sweep

/readyz reads it: a load balancer keeps the web workers only while a scheduler sweeps the timers.

Revision ID: f3b8d1c5a7e2
Revises: f3b8d1c6a2e7
Create Date: 2026-12-06 15:10:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "f3b8d1c5a7e2"
down_revision = "f3b8d1c6a2e7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_scheduler_heartbeat")),
    )


def downgrade():
    op.drop_table("scheduler_heartbeat")
