"""course and course_filing_counter: courses filed with the HRSS (R7) and their filing numbers

Revision ID: c2f8a5d1e6b4
Revises: a7d2c9e4b1f3
Create Date: 2026-12-06 17:10:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "c2f8a5d1e6b4"
down_revision = "a7d2c9e4b1f3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filer_id", sa.Integer(), nullable=False),
        sa.Column("filer_kind", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=64), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filing_number", sa.String(length=32), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("filed_at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", domain.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", domain.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["filer_id"], ["organisation.id"], name=op.f("fk_course_filer_id_organisation")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["course.id"], name=op.f("fk_course_supersedes_id_course")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint("filing_number", name=op.f("uq_course_filing_number")),
    )
    op.create_index("ix_course_catalogue", "course", ["year", "status", "region_code"], unique=False)
    op.create_index("ix_course_filer", "course", ["filer_id", "year"], unique=False)
    op.create_table(
        "course_filing_counter",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "year", name=op.f("pk_course_filing_counter")),
    )


def downgrade():
    op.drop_table("course_filing_counter")
    op.drop_index("ix_course_filer", table_name="course")
    op.drop_index("ix_course_catalogue", table_name="course")
    op.drop_table("course")
