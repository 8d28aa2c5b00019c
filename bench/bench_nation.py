"""The synthetic nation through the real nightly pipeline: figures per stage, beside baselines.

Generates (or reuses) England and Wales over ten years, then on a fresh database of the local
server (MFC_BENCH_SERVER_URL) runs mfc_nightly with dag.test(), as `mfc run` does, and prints
per stage (register + archive, gate + promote, dbt, mart gate, reports) wall seconds and rows/s,
with the peak connections and peak RSS of the run. Beside it, in the same run:
- ingest: plain COPY of the same files into text tables (the pipeline's rate / COPY's rate);
- gate: the council content checks over the same landing rows, as GX runs them (one validation
  per batch) and as hand-written SQL (one query per check per batch, no GX).
Then three more runs: a nightly increment (a new police month for every force and three council
resubmissions), a no-change rerun, and a full rebuild; finally `mfc evaluate` against the truth.

    .venv/bin/python bench/bench_nation.py --out /tmp/nation            # the whole nation
    .venv/bin/python bench/bench_nation.py --out /tmp/ne --region E12000001 --years 2023-2024

Prints figures only: the targets are in docs/performance.md, never in tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql


def rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def data_rows(landing: Path) -> int:
    """Rows delivered (lines after the header) in every CSV under landing."""
    total = 0
    for path in landing.rglob("*.csv"):
        with path.open("rb") as f:
            total += max(sum(1 for _ in f) - 1, 0)
    return total


def plain_copy_seconds(url: str, landing: Path) -> float:
    """COPY every CSV into a text table of its own width, as fast as PostgreSQL reads CSV."""
    from mfc.files import read_columns

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for path in sorted(landing.rglob("*.csv")):
            width = len(read_columns(path))
            with conn.transaction():
                conn.execute(sql.SQL("create temp table plain ({})").format(sql.SQL(", ").join(
                    sql.SQL(f"c{i} text") for i in range(width))))
                with conn.cursor().copy("copy plain from stdin (format csv, header true)") as cp, \
                        path.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        cp.write(block)
                conn.execute("drop table plain")
    return time.perf_counter() - started


def gate_baselines(url: str) -> dict[str, float]:
    """The council content checks over the loaded returns' files, landed again under their own
    submission ids: as GX runs them and as hand-written SQL, batch by batch."""
    from mfc import gates, pipeline
    from mfc.kinds import COUNCIL

    with psycopg.connect(url, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute(
            "select submission_id from audit.submissions where source = 'council' "
            "and status = 'loaded' order by 1")]
        for waiting in pipeline.load_waiting(conn, COUNCIL, ids):
            COUNCIL.land(conn, waiting)
    tables = {t.name: t.landing_table for t in COUNCIL.tables}
    batches = pipeline.batches(url, COUNCIL, ids)
    started = time.perf_counter()
    for batch in batches:
        gates.validate_content(url, COUNCIL.content, tables,
                               {c.check_id: batch for c in COUNCIL.content})
    gx = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for batch in batches:
            for check in COUNCIL.content:
                conn.execute(f"select submission_id, count(*) from "
                             f"({gates.failing_rows_sql(check, tables[check.table], batch)}) f "
                             "group by 1").fetchall()
    hand = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables.values():
            conn.execute(f"truncate {table}")
    return {"gx": gx, "hand": hand, "submissions": len(ids), "batches": len(batches)}


def increment(nation: Path, out: Path) -> Path:
    """A night's deliveries: a new month from every force (its last month a month later, with
    new incident references) and three council returns sent again with one period fewer."""
    landing = out / "landing"
    if landing.exists():
        shutil.rmtree(landing)
    shutil.copytree(nation / "landing", landing, symlinks=True)
    for force in sorted((landing / "police").iterdir()):
        last = max(force.glob("*.csv"))
        year, month = (int(x) for x in last.stem.split("-"))
        following = f"{year + month // 12}-{month % 12 + 1:02d}"
        with last.open(newline="") as f:
            rows = list(csv.reader(f))
        for row in rows[1:]:
            row[1] = f"{row[1]}-N"  # new incidents: new references
            reported = datetime.strptime(row[6], "%d/%m/%Y %H:%M")
            moved = reported.replace(year=year + month // 12, month=month % 12 + 1,
                                     day=min(reported.day, 28))
            row[6] = moved.strftime("%d/%m/%Y %H:%M")
            if row[7]:
                found = datetime.strptime(row[7], "%d/%m/%Y %H:%M")
                row[7] = (moved + (found - reported)).strftime("%d/%m/%Y %H:%M")
        with (force / f"{following}.csv").open("w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    for folder in sorted((landing / "council").glob("*/*"))[:3]:
        path = folder / "missing.csv"
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:-1]))
    # Delivered during the day, before the night's run (not "still being written").
    earlier = time.time() - 3600
    for path in landing.rglob("*.csv"):
        if path.stat().st_mtime > earlier:
            os.utime(path, (earlier, earlier))
    return landing


def run(landing: Path, url: str, server: str, label: str, log_dir: Path,
        full_refresh: bool = False) -> dict:
    from mfc import progress, runner
    from mfc.warehouse import ConnectionWatch

    os.environ["MFC_WAREHOUSE_URL"] = url
    with ConnectionWatch(server, url, every=0.2) as watch:
        started = time.perf_counter()
        result = runner.run_nightly(landing, log_dir / f"{label}.log", full_refresh=full_refresh)
        wall = time.perf_counter() - started
    if result.state != "success":
        raise SystemExit(f"{label}: the run ended {result.state}; see {log_dir / label}.log")
    return {"wall": wall, "stages": progress.stage_seconds(result.tasks),
            "peak_connections": watch.peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/mfc-nation"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", default="2015-2024")
    parser.add_argument("--region", default=None)
    parser.add_argument("--skip-followups", action="store_true",
                        help="only the first run (no increment, rerun or rebuild)")
    args = parser.parse_args()

    from mfc import evaluate
    from mfc.synth import write
    from mfc.synth.simulate import Simulation

    os.environ.setdefault("MFC_STATE_DIR", str(args.out / "state"))
    os.environ["MFC_ARCHIVE_DIR"] = str(args.out / "state" / "archive")
    os.environ.setdefault("MFC_PSEUDONYMISATION_KEY", "bench-key-not-secret")
    first, _, last = args.years.partition("-")
    years = range(int(first), int(last or first) + 1)
    nation = args.out / "synth"
    marker = nation / "options.json"
    options = {"seed": args.seed, "years": args.years, "region": args.region}
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
          f"Python {platform.python_version()}, {platform.platform()}")
    if marker.exists() and json.loads(marker.read_text()) == options:
        print(f"synth: reusing {nation}")
    else:
        shutil.rmtree(nation, ignore_errors=True)
        authorities = None
        if args.region:
            sim = Simulation(args.seed, years)
            authorities = {a.gss_code for a in sim.register if a.region_code == args.region}
        started = time.perf_counter()
        write.synthesise(write.Options(nation, args.seed, years, authorities, 1.0, 0.0,
                                       progress=False))
        print(f"synth: {time.perf_counter() - started:.0f} s")
        marker.write_text(json.dumps(options))
    landing = nation / "landing"
    files = sum(1 for _ in landing.rglob("*.csv"))
    size = sum(p.stat().st_size for p in landing.rglob("*.csv"))
    rows = data_rows(landing)
    print(f"landing: {files:,} files, {size / 1e6:,.0f} MB, {rows:,} rows")

    server = os.environ.get("MFC_BENCH_SERVER_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"mfc_bench_{uuid.uuid4().hex[:8]}"
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(server, autocommit=True) as admin:
        version = admin.execute("show server_version").fetchone()[0]
        admin.execute(f'create database "{name}"')
    print(f"PostgreSQL {version}, stock settings; database {name}")
    try:
        first_run = run(landing, url, server, "1-full", logs)
        warehouse_rows = {}
        with psycopg.connect(url) as conn:
            for table in ("raw.council_missing", "raw.police_incidents",
                          "marts.fct_missing_incidents", "marts.dim_children"):
                warehouse_rows[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
        print("\nFull national build from landing files")
        print(f"  {'stage':<20}{'seconds':>10}{'rows/s':>12}")
        for stage, spent in first_run["stages"].items():
            rate = f"{rows / spent:,.0f}" if stage in ("register + archive", "gate + promote") \
                else ""
            print(f"  {stage:<20}{spent:>10,.1f}{rate:>12}")
        self_mb, child_mb = rss_mb()
        print(f"  {'whole run':<20}{first_run['wall']:>10,.1f}")
        print(f"  peak connections {first_run['peak_connections']}, peak RSS {self_mb:,.0f} MB "
              f"(largest child process {child_mb:,.0f} MB)")
        print("  " + ", ".join(f"{t} {n:,}" for t, n in warehouse_rows.items()))

        copy = plain_copy_seconds(url, landing)
        ingest = first_run["stages"].get("register + archive", 0) + \
            first_run["stages"].get("gate + promote", 0)
        print(f"\nIngest: plain COPY of the same files {copy:,.1f} s ({rows / copy:,.0f} rows/s); "
              f"the pipeline's register+gate+promote {ingest:,.1f} s: "
              f"{copy / ingest:.2f}x COPY's rate")
        baseline = gate_baselines(url)
        print(f"Gate: council content checks over {baseline['submissions']:,} returns in "
              f"{baseline['batches']} batches: GX {baseline['gx']:,.1f} s, hand SQL "
              f"{baseline['hand']:,.1f} s: {baseline['gx'] / baseline['hand']:.2f}x")

        if not args.skip_followups:
            nightly = increment(nation, args.out / "increment")
            for label, folder in (("2-increment", nightly), ("3-no-change", nightly)):
                figures = run(folder, url, server, label, logs)
                print(f"\n{label}: {figures['wall']:,.1f} s, peak connections "
                      f"{figures['peak_connections']}; " + ", ".join(
                          f"{s} {v:,.1f}" for s, v in figures["stages"].items()))
            rebuilt = run(nightly, url, server, "4-full-refresh", logs, full_refresh=True)
            print(f"\n4-full-refresh: {rebuilt['wall']:,.1f} s; " + ", ".join(
                f"{s} {v:,.1f}" for s, v in rebuilt["stages"].items()))
        print("\nmfc evaluate (the marts after these runs, against the nation's truth):")
        print(json.dumps(evaluate.evaluate(url, nation), indent=1, default=str))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
    print(f"\npeak RSS of this process (dag.test runs the tasks in it): {rss_mb()[0]:,.0f} MB; "
          f"finished {date.today():%d/%m/%Y}")


if __name__ == "__main__":
    main()
