"""ix_user_account_username_lower: a new account's case-insensitive username check reads an index

Registration checks the username free with lower(username) = lower(:name); without this index
each check read every account (a province's two million: over a second per registration).

Revision ID: a7d2c9e4b1f3
Revises: a7c4e9d2b1f0
Create Date: 2026-12-06 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7d2c9e4b1f3"
down_revision = "a7c4e9d2b1f0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_user_account_username_lower", "user_account", [sa.text("lower(username)")])


def downgrade():
    op.drop_index("ix_user_account_username_lower", table_name="user_account")
