"""enrolment and enrolment_order: persons in approved courses, the fees and invoices (R13)

Revision ID: d4a1b8c3e7f2
Revises: c2f8a5d1e6b4
Create Date: 2026-12-06 17:00:00

"""

import sqlalchemy as sa
from alembic import op

import domain.base

revision = "d4a1b8c3e7f2"
down_revision = "c2f8a5d1e6b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "enrolment_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_enrolment_order_course_id_course")),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["organisation.id"], name=op.f("fk_enrolment_order_employer_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_order")),
    )
    op.create_index(op.f("ix_enrolment_order_course_id"), "enrolment_order", ["course_id"], unique=False)
    op.create_index(op.f("ix_enrolment_order_employer_id"), "enrolment_order", ["employer_id"], unique=False)
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("payment_state", sa.String(length=24), nullable=False),
        sa.Column("payment_confirmed_at", domain.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("payment_confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("invoice_title", sa.String(length=128), nullable=True),
        sa.Column("invoice_tax_id", sa.String(length=32), nullable=True),
        sa.Column("invoice_requested_at", domain.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("invoice_number", sa.String(length=64), nullable=True),
        sa.Column("score", sa.String(length=16), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("hours_credited", sa.Integer(), nullable=True),
        sa.Column("credited_at", domain.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", domain.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_enrolment_course_id_course")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["enrolment_order.id"], name=op.f("fk_enrolment_order_id_enrolment_order")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_enrolment_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint("course_id", "person_id", name="uq_enrolment_course_person"),
    )
    op.create_index("ix_enrolment_person", "enrolment", ["person_id", "course_id"], unique=False)
    op.create_index(op.f("ix_enrolment_order_id"), "enrolment", ["order_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_enrolment_order_id"), table_name="enrolment")
    op.drop_index("ix_enrolment_person", table_name="enrolment")
    op.drop_table("enrolment")
    op.drop_index(op.f("ix_enrolment_order_employer_id"), table_name="enrolment_order")
    op.drop_index(op.f("ix_enrolment_order_course_id"), table_name="enrolment_order")
    op.drop_table("enrolment_order")
