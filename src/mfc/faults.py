"""Named points where a run can be held, for the tests that kill it there (tests/test_dag.py)
or restart its PostgreSQL under it. Does nothing unless MFC_PAUSE_AT names the point.

MFC_PAUSE_AT=point:n holds the run the n-th time it passes `point` (n defaults to 1): it writes
the point's name to the file MFC_PAUSE_FLAG names and waits until that file is gone. A test then
kills the process with SIGKILL (nothing in the run can clean up), or removes the file to let the
run go on.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

_passed: Counter[str] = Counter()


def pause_here(point: str) -> None:
    wanted = os.environ.get("MFC_PAUSE_AT")
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _passed[point] += 1
    if _passed[point] != int(nth or 1):
        return
    flag = Path(os.environ["MFC_PAUSE_FLAG"])
    flag.write_text(point)
    while flag.exists():
        time.sleep(0.05)
