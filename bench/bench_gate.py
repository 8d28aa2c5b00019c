"""How fast one large council return goes through register -> COPY -> GX gate -> raw.

Prints figures; asserts nothing. Uses a throwaway database on the server given by
MFC_BENCH_SERVER_URL (default: the local server), dropped afterwards.

    .venv/bin/python bench/bench_gate.py --children 20000 --periods 200000
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from mfc import landing, pipeline, warehouse
from mfc.kinds import COUNCIL
from mfc.returns.council import EPISODES, HEADER, MISSING


def write_return(folder: Path, children: int, periods: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    ids = [f"B{n:07d}" for n in range(children)]
    births = {c: date(2006, 1, 1) + timedelta(days=rng.randint(0, 4000)) for c in ids}
    uk = "%d/%m/%Y"
    with (folder / HEADER.file_name).open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER.columns)
        out.writerows([c, "1", births[c].strftime(uk), "WBRI", "", "", ""] for c in ids)
    with (folder / EPISODES.file_name).open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(EPISODES.columns)
        out.writerows([c, "01/01/2022", "S", "C2", "N1", "U1", "PR1", "", "", "", "TS1 1AA",
                       "TS2 2BB", ""] for c in ids)
    with (folder / MISSING.file_name).open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(MISSING.columns)
        for n in range(periods):  # distinct start dates per child: period n of child n % k
            child = ids[n % children]
            start = date(2023, 4, 1) + timedelta(days=n // children)
            out.writerow([child, births[child].strftime(uk), "M", start.strftime(uk),
                          start.strftime(uk)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--periods", type=int, default=200_000)
    args = parser.parse_args()

    server = os.environ.get("MFC_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"mfc_bench_{uuid.uuid4().hex[:8]}"
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    with tempfile.TemporaryDirectory() as tmp, psycopg.connect(server, autocommit=True) as admin:
        os.environ["MFC_ARCHIVE_DIR"] = str(Path(tmp) / "archive")
        os.environ.setdefault("MFC_PSEUDONYMISATION_KEY", "bench-key-not-secret")
        admin.execute(f'create database "{name}"')
        try:
            os.environ.setdefault("MFC_LANDING_QUIET_SECONDS", "0")  # written just now
            root = Path(tmp) / "landing"
            write_return(root / "council" / "806" / "2023-24", args.children, args.periods)
            size = sum(p.stat().st_size for p in root.rglob("*.csv"))
            warehouse.ensure_schema(url)
            t0 = time.perf_counter()
            [submission_id] = landing.register_all(url, root)
            t1 = time.perf_counter()
            import great_expectations  # noqa: F401  (import time is not gate time)

            t2 = time.perf_counter()
            [outcome] = pipeline.gate_and_load_batch(url, COUNCIL, [submission_id], "bench")
            t3 = time.perf_counter()
        finally:
            admin.execute(f'drop database if exists "{name}" with (force)')
    rows = 2 * args.children + args.periods
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"return: {args.children:,} children, {args.periods:,} missing periods, "
          f"{size / 1e6:.1f} MB")
    print(f"register + archive: {t1 - t0:6.2f} s")
    print(f"gate and load:      {t3 - t2:6.2f} s  ({rows / (t3 - t2):,.0f} rows/s), "
          f"status {outcome.status}")
    print(f"peak memory (this process): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
