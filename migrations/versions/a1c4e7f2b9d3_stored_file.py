"""stored_file: file bytes in the database, so every web node reads what another one stored

Attachments were written to the instance folder of the node that took the upload; a second machine
does not have that folder. The default file store now keeps the bytes here, in the same transaction
as the record that names them.

Revision ID: a1c4e7f2b9d3
Revises: f3b8d1c5a7e2
Create Date: 2026-12-06 16:40:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "a1c4e7f2b9d3"
down_revision = "f3b8d1c5a7e2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_file")),
    )


def downgrade():
    op.drop_table("stored_file")
