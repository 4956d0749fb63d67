"""pass_certificate: the pass certificates (合格证明) issued for passed, credited enrolments (R8)

Revision ID: e8c2a7f4b1d9
Revises: b7e2c4f9a1d3
Create Date: 2026-12-06 17:20:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "e8c2a7f4b1d9"
down_revision = "b7e2c4f9a1d3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pass_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("file_key", sa.String(length=32), nullable=False),
        sa.Column("issued_at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("person_name", sa.String(length=64), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("course_title", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=128), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("filing_number", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_pass_certificate_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_pass_certificate_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_pass_certificate_code")),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_pass_certificate_enrolment_id")),
    )
    op.create_index(op.f("ix_pass_certificate_person_id"), "pass_certificate", ["person_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_pass_certificate_person_id"), table_name="pass_certificate")
    op.drop_table("pass_certificate")
