"""account_unlock: who lifted an account's sign-in lockout, and when

A unit admin, the HRSS office over the organisation or a system admin may unlock an account before
its lockout ends; each unlock is a row (the record of who did it), and failed sign-ins before the
latest one no longer count.

Revision ID: e4a9c3b7d2f1
Revises: c7e1d2a4f5b6
Create Date: 2026-12-06 14:30:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "e4a9c3b7d2f1"
down_revision = "c7e1d2a4f5b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_unlock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["user_account.id"], name=op.f("fk_account_unlock_by_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_account_unlock_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_unlock")),
    )
    with op.batch_alter_table("account_unlock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_unlock_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("account_unlock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_unlock_user_id"))
    op.drop_table("account_unlock")
