"""natural_sort_and_void_audit: names' natural sort keys, who voided a certificate number, R16 settings

The directories order names naturally (第2 before 第10) through a stored key indexed with the id,
replacing the (name, id) index; a voided certificate number records the user who voided it; the
policy calendar gains the national yearly total, the professional share and the hour unit (R16),
existing years taking the 2015 national values (90 hours, two thirds, 45 minutes).

Revision ID: a7c4e9d2b1f0
Revises: b7d2e9a4c1f8
Create Date: 2026-12-06 16:40:00

"""

import sqlalchemy as sa
from alembic import op

from domain.text import sort_key

revision = "a7c4e9d2b1f0"
down_revision = "b7d2e9a4c1f8"
branch_labels = None
depends_on = None

BATCH = 10_000
POLICY_SETTINGS = {"national_total_hours": "90", "professional_share_percent": "67", "hour_unit_minutes": "45"}


def _fill_sort_names(table_name: str) -> None:
    """Compute every row's key in Python, a batch at a time by id (the key is not expressible in SQL)."""
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("name"), sa.column("sort_name"))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.name).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")).values(sort_name=sa.bindparam("key")),
            [{"row_id": row_id, "key": sort_key(name)} for row_id, name in rows],
        )
        last = rows[-1][0]


def upgrade():
    for table_name in ("organisation", "person"):
        with op.batch_alter_table(table_name) as batch:
            batch.add_column(sa.Column("sort_name", sa.String(length=255), nullable=True))
        _fill_sort_names(table_name)
        with op.batch_alter_table(table_name) as batch:
            batch.alter_column("sort_name", existing_type=sa.String(length=255), nullable=False)
    with op.batch_alter_table("person") as batch:
        batch.drop_index("ix_person_name")
    op.create_index("ix_person_sort_name", "person", ["sort_name", "id"])
    op.create_index("ix_organisation_sort_name", "organisation", ["sort_name", "id"])
    with op.batch_alter_table("policy_year") as batch:
        for name, value in POLICY_SETTINGS.items():
            batch.add_column(sa.Column(name, sa.Integer(), server_default=value, nullable=False))
    with op.batch_alter_table("certificate_number") as batch:
        batch.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_certificate_number_voided_by_id_user_account"), "user_account", ["voided_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("policy_year") as batch:
        for name in POLICY_SETTINGS:
            batch.drop_column(name)
    with op.batch_alter_table("certificate_number") as batch:
        batch.drop_constraint(batch.f("fk_certificate_number_voided_by_id_user_account"), type_="foreignkey")
        batch.drop_column("voided_by_id")
    op.drop_index("ix_organisation_sort_name", table_name="organisation")
    op.drop_index("ix_person_sort_name", table_name="person")
    op.create_index("ix_person_name", "person", ["name", "id"])
    for table_name in ("person", "organisation"):
        with op.batch_alter_table(table_name) as batch:
            batch.drop_column("sort_name")
