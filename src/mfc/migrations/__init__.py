"""The warehouse's own schemas (audit, landing, raw, dq), versioned with Alembic: revisions in
versions/, applied by `mfc db upgrade` (mfc.schema)."""
