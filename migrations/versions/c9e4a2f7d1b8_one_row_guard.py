"""one_row_guard: the function PostgreSQL checks a pipelined write's one-row condition with

The engine sends a command's writes and its COMMIT together; a write that must change exactly one
row (an instance's version, an open task) calls ceflow_one_row, which fails it otherwise, so the
server skips the COMMIT. SQLite runs each statement and checks the count itself: nothing to do.

Revision ID: c9e4a2f7d1b8
Revises: e8c2a7f4b1d9
Create Date: 2026-12-06 20:00:00

"""

from alembic import op

revision = "c9e4a2f7d1b8"
down_revision = "e8c2a7f4b1d9"
branch_labels = None
depends_on = None

# as engine.runtime.statements.GUARD_FUNCTION has it today; a migration keeps its own copy
ONE_ROW = """
CREATE OR REPLACE FUNCTION ceflow_one_row(changed bigint, guard integer) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    IF changed <> 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'CF001', MESSAGE = guard::text;
    END IF;
    RETURN changed;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ONE_ROW)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ceflow_one_row(bigint, integer)")
