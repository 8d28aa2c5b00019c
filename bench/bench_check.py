"""How long `mfc check` takes a data officer: start-up, then each council return checked.

Prints figures; asserts nothing. The check runs on the embedded PostgreSQL (no warehouse
configured), under a throwaway state folder; returns are written as bench_gate.py writes them.
A typical authority returns a few hundred looked-after children and about a thousand
missing/away periods a year; the largest, a few thousand children and ten thousand periods.

    .venv/bin/python bench/bench_check.py [--sizes 500:1000,3000:10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_gate import write_return  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500:1000,3000:10000",
                        help="children:periods of each return checked")
    parser.add_argument("--repeat", type=int, default=3, help="checks of each return")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.pop("MFC_WAREHOUSE_URL", None)
        os.environ["MFC_STATE_DIR"] = str(Path(tmp) / "state")
        from mfc import warehouse
        from mfc.check import Checker

        t0 = time.perf_counter()
        with Checker() as checker:
            started = time.perf_counter() - t0
            print(f"start-up (embedded server, template database): {started:.1f} s")
            for size in args.sizes.split(","):
                children, periods = (int(n) for n in size.split(":"))
                folder = Path(tmp) / f"c{children}" / "806" / "2023-24"
                write_return(folder, children, periods)
                times = []
                for _ in range(args.repeat):
                    t1 = time.perf_counter()
                    report = checker.check(folder)
                    times.append(time.perf_counter() - t1)
                first = " (imports GX)" if size == args.sizes.split(",")[0] else ""
                print(f"{children:>6} children, {periods:>6} periods: first check "
                      f"{times[0]:.1f} s{first}, then "
                      + ", ".join(f"{t:.1f} s" for t in times[1:])
                      + f"; exit {report.exit_code}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the checking process: {peak:.0f} MB")
        warehouse.stop_embedded(Path(tmp) / "state")


if __name__ == "__main__":
    main()
