"""organisation.admin_user_id foreign key on servers that got the table without it

Alembic's create_table leaves out a use_alter foreign key (organisation and user_account refer to
each other), so PostgreSQL databases built by the initial schema lack it; SQLite got it inline.

Revision ID: b1c4e2f0a901
Revises: daadbd2bab8a
Create Date: 2026-12-01 14:20:00

"""

from alembic import op

revision = "b1c4e2f0a901"
down_revision = "daadbd2bab8a"
branch_labels = None
depends_on = None

NAME = "fk_organisation_admin_user_id_user_account"


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(NAME, "organisation", "user_account", ["admin_user_id"], ["id"])


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(NAME, "organisation", type_="foreignkey")
