"""How long a synthetic region takes to gate and load (council, police), to build the marts
(linkage and merging in dbt), and how close the result comes to the truth.

Prints figures; asserts nothing. Uses a throwaway database on the server given by
MFC_BENCH_SERVER_URL (default: the local server), dropped afterwards. Runs the steps directly,
not through Airflow, so that each is timed on its own.

    .venv/bin/python bench/bench_linkage.py --region E12000001 --years 2023-2024 --scale 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from mfc import config, evaluate, landing, pipeline, warehouse
from mfc.geography import AuthorityRegister
from mfc.kinds import COUNCIL, POLICE
from mfc.synth import write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", default="E12000001")
    parser.add_argument("--years", default="2023-2024")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    server = os.environ.get("MFC_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"mfc_bench_{uuid.uuid4().hex[:8]}"
    url = urlsplit(server)._replace(path=f"/{name}").geturl()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            os.environ["MFC_ARCHIVE_DIR"] = str(out / "archive")
            os.environ.setdefault("MFC_PSEUDONYMISATION_KEY", "bench-key-not-secret")
            authorities = {a.gss_code for a in AuthorityRegister.from_seed()
                           if a.region_code == args.region}
            timings = {}
            started = time.perf_counter()
            years = range(int(first), int(last or first) + 1)
            write.synthesise(write.Options(out, args.seed, years, authorities, args.scale,
                                           progress=False))
            timings["synth"] = time.perf_counter() - started

            started = time.perf_counter()
            warehouse.ensure_schema(url)
            landing.register_all(url, out / "landing")
            pipeline.gate_waiting(url, POLICE, "bench")
            timings["police gate+load"] = time.perf_counter() - started
            started = time.perf_counter()
            pipeline.gate_waiting(url, COUNCIL, "bench")
            timings["council gate+load"] = time.perf_counter() - started

            os.environ["MFC_WAREHOUSE_URL"] = url
            config.export_dbt_env()
            project = config.dbt_project_dir()
            started = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "dbt"), "build", "--quiet",
                            "--project-dir", str(project), "--profiles-dir", str(project)],
                           check=True)
            timings["dbt build"] = time.perf_counter() - started
            with psycopg.connect(url) as conn:
                counts = conn.execute(
                    "select (select count(*) from raw.council_missing), "
                    "(select count(*) from raw.police_incidents), "
                    "(select count(*) from marts.fct_missing_incidents), "
                    "(select count(*) from marts.dim_children)").fetchone()
            report = evaluate.evaluate(url, out)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
    print(f"region {args.region}, years {args.years}, scale {args.scale}, seed {args.seed}")
    print(f"rows: council periods {counts[0]:,}, police incidents {counts[1]:,}, "
          f"merged incidents {counts[2]:,}, distinct children {counts[3]:,}")
    for step, seconds in timings.items():
        print(f"  {step:<20} {seconds:7.1f} s")
    report["authorities"].pop("rows")
    print(json.dumps({k: report[k] for k in ("years", "authorities", "incident_merging",
                                             "child_linkage")}, indent=1))


if __name__ == "__main__":
    main()
