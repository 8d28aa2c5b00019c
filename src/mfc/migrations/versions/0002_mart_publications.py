"""Marts are built aside and published in one transaction: record when each build went live.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from mfc.schema import run_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("""
        -- When the build became the marts analysts read (null: built before builds were
        -- published atomically).
        alter table audit.mart_builds add column published_at timestamptz;
        comment on column audit.mart_builds.published_at is
            'when this build replaced the marts analysts read, in one transaction';
    """)


def downgrade() -> None:
    run_sql("alter table audit.mart_builds drop column published_at;")
