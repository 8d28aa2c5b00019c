"""How to fix each check, in plain English, beside its message (the DfE wording for a DfE rule).

The check catalogue's second half: a data officer reads the message to learn what is wrong and
this line to learn what to do about it. Keyed by check id; every check in the catalogue has one
(tests/test_check_catalogue.py), and docs/returns/*.md show them.
"""

from __future__ import annotations

FIXES: dict[str, str] = {
}
