"""The whole synthetic nation: time, peak memory and size of `mfc synth` for 2015-2024.

Prints figures; asserts nothing. Target (issue 3): under 2 minutes on 2 cores, memory bounded.

    .venv/bin/python bench/bench_synth.py [--years 2015-2024] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from mfc.synth import write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", default="2015-2024")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", help="write here and keep the output")
    args = parser.parse_args()
    first, last = (int(y) for y in args.years.split("-"))
    out = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mfc-synth-"))
    try:
        started = time.perf_counter()
        summary = write.synthesise(write.Options(out, args.seed, range(first, last + 1),
                                                 progress=False))
        seconds = time.perf_counter() - started
        files = [p for p in out.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"years {args.years}: {seconds:.1f} s, peak memory {peak:,.0f} MB, "
          f"{len(files):,} files, {size / 1e6:,.0f} MB")
    for year_ending, totals in sorted(summary.items()):
        print(f"  {year_ending}: {len(totals.children):,} children, "
              f"{totals.incidents:,} missing incidents (England, council returns)")


if __name__ == "__main__":
    main()
