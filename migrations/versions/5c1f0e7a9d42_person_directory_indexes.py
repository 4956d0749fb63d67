"""person directory indexes: per-region status counts and the list in name order

An HRSS's person directory counts its regions' persons per status and lists them by (name, id).
(region_code, status) answers the counts from the index alone and replaces the region_code index
it starts with; (name, id) lets a list over many regions read its page in order instead of
sorting every match.

Revision ID: 5c1f0e7a9d42
Revises: 2e7133ec6d37
Create Date: 2026-12-01 18:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c1f0e7a9d42'
down_revision = '2e7133ec6d37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_person_region_status', 'person', ['region_code', 'status'])
    op.drop_index('ix_person_region_code', table_name='person')
    op.create_index('ix_person_name', 'person', ['name', 'id'])


def downgrade():
    op.drop_index('ix_person_name', table_name='person')
    op.create_index('ix_person_region_code', 'person', ['region_code'])
    op.drop_index('ix_person_region_status', table_name='person')
