"""MFC warehouse: children missing from local-authority care in England and Wales."""
