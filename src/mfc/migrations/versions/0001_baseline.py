"""The schema of the last release before versioned migrations (0001_baseline.sql).

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from mfc.schema import run_sql_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql_file("0001_baseline.sql")


def downgrade() -> None:
    raise NotImplementedError("the baseline holds the warehouse's data: restore a backup instead")
