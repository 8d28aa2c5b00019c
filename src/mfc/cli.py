"""`mfc`: the warehouse's command line (demo, run)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mfc import config


def _run(args: argparse.Namespace) -> int:
    from mfc import runner

    landing = Path(args.landing)
    if not landing.is_dir():
        print(f"mfc run: landing folder {landing} does not exist", file=sys.stderr)
        return 2
    if config.warehouse_url() is None:
        print("mfc run: MFC_WAREHOUSE_URL is not set; point it at the warehouse PostgreSQL, "
              "e.g. postgresql://postgres@127.0.0.1:5432/mfc", file=sys.stderr)
        return 2
    log = None if args.verbose else runner.default_log_path()
    if log:
        print(f"Running mfc_nightly over {landing}; task logs: {log}")
    state = runner.run_nightly(landing, log)
    print(f"mfc_nightly finished: {state}")
    if state != "success" and log:
        print(f"See the task logs in {log}", file=sys.stderr)
    return 0 if state == "success" else 1


def _demo(args: argparse.Namespace) -> int:
    from mfc import demo

    return demo.main(fresh=args.fresh)


def _stop(args: argparse.Namespace) -> int:
    from mfc import warehouse

    stopped = warehouse.stop_embedded()
    print("Embedded PostgreSQL stopped." if stopped else "No embedded PostgreSQL is running.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mfc",
        description="Warehouse of children missing from local-authority care "
        "(England and Wales).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="write synthetic council returns and run the nightly pipeline over them"
    )
    demo.add_argument("--fresh", action="store_true",
                      help="start from an empty warehouse (embedded server only)")
    demo.set_defaults(handler=_demo)

    run = commands.add_parser(
        "run", help="run the nightly pipeline once over a landing folder (MFC_WAREHOUSE_URL)"
    )
    run.add_argument("--landing", required=True, help="landing folder (see docs/returns/)")
    run.add_argument("--verbose", action="store_true",
                     help="show Airflow's and dbt's task logs on the terminal")
    run.set_defaults(handler=_run)

    stop = commands.add_parser("stop", help="stop the embedded PostgreSQL that `mfc demo` started")
    stop.set_defaults(handler=_stop)

    args = parser.parse_args(argv)
    # Keep third-party chatter (GX progress bars, platform warnings) off the user's terminal.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    config.state_dir().mkdir(parents=True, exist_ok=True)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
