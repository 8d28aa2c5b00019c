"""`mfc`: the warehouse's command line (demo, run, check, serve-check, report, docs, publish,
synth, evaluate, dq-eval, release, db, stop, airflow)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from mfc import config


def _run(args: argparse.Namespace) -> int:
    from mfc import landing as landing_folder
    from mfc import schema, warehouse

    landing = Path(args.landing) if args.landing else config.landing_dir()
    landing_folder.check_folder(landing)  # a ConfigurationError is one line (main)
    url = config.require_warehouse_url()
    warehouse.check_reachable(url)
    schema.require_current(url, create=True)  # a new warehouse is made; an old one refused
    warehouse.check_key(url)
    if args.airflow or (not args.one_off and _local_airflow_running()):
        # The local Airflow's runs queue one at a time (max_active_runs), and show in its UI.
        return _run_on_airflow(args, landing, url)
    with warehouse.run_lock(url):
        return _run_locked(args, landing, url)


def _check(args: argparse.Namespace) -> int:
    from mfc.check import CheckCannotRun, Checker

    out = Path(args.report)
    try:
        with Checker() as checker:
            report = checker.check(Path(args.path), kind=args.kind, authority=args.authority,
                                   period=args.period)
    except CheckCannotRun as error:
        print(f"mfc check: could not check {args.path}: {error}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(report.html, encoding="utf-8")
    (out / "failing_rows.csv").write_bytes(report.failing_rows_csv)
    print(report.summary())
    print(f"\nThe report: {out.resolve() / 'index.html'} (every failing row: "
          f"{out.resolve() / 'failing_rows.csv'}). Nothing was sent, and no warehouse was "
          "written to.")
    return report.exit_code


def _local_airflow_running() -> bool:
    from mfc import local_airflow

    if set(local_airflow.running()) != set(local_airflow.PROCESSES):
        return False
    print("The local Airflow is running (mfc airflow start): the run goes there and shows in "
          "its UI (--one-off runs it here instead).")
    return True


def _run_locked(args: argparse.Namespace, landing: Path, url: str) -> int:
    from mfc import progress, runner

    log = None if args.verbose else Path(args.log) if args.log else runner.default_log_path()
    console = progress.console_for(sys.stdout, args.quiet)
    if log:
        console.print(f"Running mfc_nightly over {landing}; task logs: {log}")
    result = runner.run_nightly(landing, log, quiet=args.quiet, full_refresh=args.full_refresh)
    if result.state == "success":
        progress.summary(config.require_warehouse_url(), result.started,
                         progress.stage_seconds(result.tasks), result.dbt_nodes, console)
    print(f"mfc_nightly finished: {result.state}")
    if result.state != "success" and log:
        failed = sorted({t.task_id for t in result.tasks if t.state == "failed"})
        print(f"Failed: {', '.join(failed) or 'see the log'}. Task logs: {log}", file=sys.stderr)
    return 0 if result.state == "success" else 1


def _run_on_airflow(args: argparse.Namespace, landing: Path, url: str) -> int:
    from mfc import local_airflow, progress

    console = progress.console_for(sys.stdout, args.quiet)
    try:
        run = local_airflow.trigger(landing, args.full_refresh,
                                    say=(lambda _: None) if args.quiet else print)
    except (local_airflow.AirflowFailed, local_airflow.ApiError) as failed:
        print(f"mfc run: the local Airflow: {failed}", file=sys.stderr)
        return 1
    if run.state == "success":
        started = min((t.start for t in run.tasks if t.start), default=None)
        progress.summary(url, started, progress.stage_seconds(run.tasks), run.dbt_nodes, console)
    print(f"mfc_nightly finished: {run.state}")
    if run.state != "success":
        failed = sorted({t.task_id for t in run.tasks if t.state == "failed"})
        print(f"Failed: {', '.join(failed) or 'see the run'}. Its task logs: {run.url}",
              file=sys.stderr)
    return 0 if run.state == "success" else 1


def _airflow(args: argparse.Namespace) -> int:
    from mfc import local_airflow

    if args.action == "start":
        try:
            local_airflow.start()
        except local_airflow.AirflowFailed as failed:
            print(f"mfc airflow: {failed}", file=sys.stderr)
            return 1
        return 0
    if args.action == "stop":
        local_airflow.stop()
        return 0
    return 0 if local_airflow.status() else 1


def _serve_check(args: argparse.Namespace) -> int:
    from mfc import serve_check

    return serve_check.serve(args.port)


def _report(args: argparse.Namespace) -> int:
    from mfc import reports

    url = config.warehouse_url()
    if url is None:
        print("mfc report: MFC_WAREHOUSE_URL is not set", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else config.reports_dir()
    counts = reports.write_all(url, out)
    print(f"Wrote {counts['submission_reports']} submission report(s); start at "
          f"{out / 'index.html'}")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from mfc import dbt_docs

    return dbt_docs.main(port=args.port, serve_site=not args.no_serve)


def _publish(args: argparse.Namespace) -> int:
    from mfc import publish
    from mfc.publish import ees

    if args.check:
        problems = ees.check(Path(args.check))
        for problem in problems:
            print(problem)
        print(f"{args.check}: {'passes' if not problems else f'{len(problems)} problem(s)'}")
        return 1 if problems else 0
    if not (args.year and args.out):
        print("mfc publish: give --year and --out, or --check DIR", file=sys.stderr)
        return 2
    from mfc import warehouse

    url = config.require_warehouse_url()
    warehouse.require_marts(url)
    try:
        written = publish.publish(url, args.year, Path(args.out))
    except ValueError as error:
        print(f"mfc publish: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # disclosure control could not protect the table
        print(f"mfc publish: nothing written: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"Wrote {path}")
    return 0


def _release(args: argparse.Namespace) -> int:
    from mfc import release, warehouse

    url = config.require_warehouse_url()
    warehouse.check_reachable(url)
    outcome = release.release(url, args.submission, args.reason)
    if outcome.status == "loaded":
        print(f"Submission {args.submission} released and loaded; its failures stay flagged: "
              f"{', '.join(outcome.failed_checks) or 'none now'}")
        return 0
    import psycopg

    with psycopg.connect(url) as conn:
        why = conn.execute("select outcome from audit.releases where submission_id = %s",
                           (args.submission,)).fetchone()[0]
    print(f"Submission {args.submission} released but {outcome.status}: {why}", file=sys.stderr)
    return 1


def _demo(args: argparse.Namespace) -> int:
    from mfc import demo

    return demo.main(fresh=args.fresh)


def _synth(args: argparse.Namespace) -> int:
    import time

    from mfc.synth import write
    from mfc.synth.simulate import Simulation

    first, _, last = args.years.partition("-")
    years = range(int(first), int(last or first) + 1)
    authorities = None
    if args.authorities or args.region:
        from mfc.geography import AuthorityRegister

        register = AuthorityRegister.from_seed()
        codes = {c.strip() for c in (args.authorities or "").split(",") if c.strip()}
        authorities = {a.gss_code for a in register
                       if a.gss_code in codes or (a.dfe_code and a.dfe_code in codes)
                       or a.region_code == args.region}
        if not authorities:
            print("mfc synth: no authority matches --authorities/--region", file=sys.stderr)
            return 2
    started = time.perf_counter()
    summary = write.synthesise(write.Options(
        Path(args.out), args.seed, years, authorities, args.scale, args.defect_rate,
        reported=args.reported))
    print(f"Wrote {args.out} in {time.perf_counter() - started:.0f} s. England, council returns "
          "(children with a missing incident; missing incidents), simulated vs target:")
    sim = Simulation(args.seed, years, args.scale)
    for year_ending, totals in sorted(summary.items()):
        target = sim.target(year_ending)
        print(f"  {year_ending - 1}-{year_ending % 100:02d}  children {len(totals.children):>7,}"
              f" (target {round(target.children_missing * args.scale):>7,})"
              f"  incidents {totals.incidents:>8,}"
              f" (target {round(target.missing_incidents * args.scale):>8,})")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from mfc import evaluate

    truth = Path(args.truth)
    url = config.warehouse_url()
    if url is None:
        print("mfc evaluate: MFC_WAREHOUSE_URL is not set", file=sys.stderr)
        return 2
    if not (truth / "records.csv").is_file() and not (truth / "truth" / "records.csv").is_file():
        print(f"mfc evaluate: {truth} holds no truth/records.csv (see mfc synth)",
              file=sys.stderr)
        return 2
    from mfc import warehouse

    warehouse.require_marts(url)
    report = evaluate.evaluate(url, truth)
    if not args.authorities:
        report["authorities"].pop("rows")
    print(json.dumps(report, indent=2))
    return 0


def _dq_eval(args: argparse.Namespace) -> int:
    from mfc import dq_eval

    truth = Path(args.truth)
    url = config.warehouse_url()
    if url is None:
        print("mfc dq-eval: MFC_WAREHOUSE_URL is not set", file=sys.stderr)
        return 2
    if not (truth / "defects.csv").is_file() and not (truth / "truth" / "defects.csv").is_file():
        print(f"mfc dq-eval: {truth} holds no truth/defects.csv (see mfc synth --defect-rate)",
              file=sys.stderr)
        return 2
    print(dq_eval.table(dq_eval.evaluate(url, truth)))
    return 0


def _db(args: argparse.Namespace) -> int:
    from mfc import schema, warehouse

    if args.action == "history":
        for revision, description in schema.history():
            print(f"{revision}  {description}")
        return 0
    url = config.require_warehouse_url()
    warehouse.check_reachable(url)
    before = schema.version(url)
    if args.action == "upgrade":
        if before.is_current:
            print(f"The warehouse at {warehouse.where(url)} is already at {before.head}.")
            return 0
        after = schema.upgrade(url)
        print(f"Upgraded the warehouse at {warehouse.where(url)} from "
              f"{before.current or 'empty'} to {after.current}.")
        return 0
    print(f"The warehouse at {warehouse.where(url)}: schema version {before.describe()}")
    return 0 if before.is_current else 1


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
    run.add_argument("--landing", help="landing folder (see docs/returns/; default: "
                                       "landing_dir of the config file, MFC_LANDING_DIR)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--airflow", action="store_true",
                       help="trigger the run on the local Airflow (`mfc airflow start`) and "
                            "follow it there (the default while that Airflow is running)")
    where.add_argument("--one-off", action="store_true",
                       help="run it here with dag.test() even while the local Airflow is "
                            "running (the run is then not in its UI)")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild every dbt model whole, not only what new submissions changed")
    run.add_argument("--quiet", action="store_true",
                     help="no progress line or summary, only the outcome")
    run.add_argument("--verbose", action="store_true",
                     help="show Airflow's and dbt's task logs on the terminal")
    run.add_argument("--log", help="write the task logs to this file (default: a new file "
                                   "under $MFC_STATE_DIR/logs)")
    run.set_defaults(handler=_run)

    check = commands.add_parser(
        "check", help="check a return before it is sent: the nightly run's gates, nothing "
        "stored or sent; exit 0 it would be loaded, 1 it would be quarantined, 2 it could not "
        "be checked")
    check.add_argument("path", help="a council return's folder (header.csv, episodes.csv, "
                       "missing.csv), a police month file or an aggregate file")
    check.add_argument("--kind", choices=("council", "police", "aggregate"),
                       help="what the return is (default: a folder is a council return, a file "
                       "named YYYY-MM.csv a police month, any other file aggregate figures)")
    check.add_argument("--authority", help="the returning authority or force (name, GSS or DfE "
                       "code; default: the name of the folder holding the return)")
    check.add_argument("--year", "--period", dest="period",
                       help="collection year YYYY-YY, or month YYYY-MM (default: the folder's or "
                       "file's name)")
    check.add_argument("--report", default="mfc-check-report",
                       help="folder for the report and failing_rows.csv (default: "
                       "./mfc-check-report)")
    check.set_defaults(handler=_check)

    serve_check = commands.add_parser(
        "serve-check", help="a page on 127.0.0.1 where a data officer drops a return's files "
        "and sees the report the nightly run would give, failing rows as CSV to download; the "
        "files are checked in a temporary folder and nothing is kept")
    serve_check.add_argument("--port", type=int, default=8765,
                             help="port to serve on (default 8765)")
    serve_check.set_defaults(handler=_serve_check)

    report = commands.add_parser(
        "report", help="write the data-quality reports: a page per submission and a national "
        "page (MFC_WAREHOUSE_URL)")
    report.add_argument("--out", help="folder to write (default: MFC_REPORTS_DIR, else "
                        "<state folder>/reports)")
    report.set_defaults(handler=_report)

    docs = commands.add_parser(
        "docs", help="build dbt's documentation of the warehouse (every mart and column "
        "described, lineage, exposures) and serve it on 127.0.0.1 (MFC_WAREHOUSE_URL, else the "
        "embedded server)")
    docs.add_argument("--port", type=int, default=8081, help="port to serve on (default 8081)")
    docs.add_argument("--no-serve", action="store_true",
                      help="only build it, and print the folder it is in")
    docs.set_defaults(handler=_docs)

    publish = commands.add_parser(
        "publish", help="write a year's official tables, disclosure controlled, as Explore "
        "Education Statistics CSVs (MFC_WAREHOUSE_URL); or check such a folder")
    publish.add_argument("--year", help="financial year, e.g. 2023-24")
    publish.add_argument("--out", help="folder to write")
    publish.add_argument("--check", metavar="DIR",
                         help="check a folder of EES files as DfE's data screener would")
    publish.set_defaults(handler=_publish)

    synth = commands.add_parser(
        "synth", help="write synthetic council and police returns with their ground truth")
    synth.add_argument("--out", required=True, help="folder to write (landing/ and truth/)")
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--years", default="2015-2024",
                       help="years ending 31 March, e.g. 2015-2024 (2015 = 2014-15)")
    synth.add_argument("--authorities", help="council returns only for these GSS/DfE codes")
    synth.add_argument("--region", help="council returns only for this region (E12...)")
    synth.add_argument("--scale", type=float, default=1.0, help="population scale factor")
    synth.add_argument("--defect-rate", type=float, default=0.0,
                       help="share of rows (and of returns) given a defect; 0 = clean")
    synth.add_argument("--no-reported", dest="reported", action="store_false",
                       help="skip the FOI answers and DfE regional figures (landing/aggregate/)")
    synth.set_defaults(handler=_synth)

    evaluate = commands.add_parser(
        "evaluate", help="compare the warehouse (MFC_WAREHOUSE_URL) with synthetic truth, as JSON")
    evaluate.add_argument("--truth", required=True,
                          help="the folder mfc synth wrote (or its truth/ folder)")
    evaluate.add_argument("--authorities", action="store_true",
                          help="list every authority-year judged, not only the worst errors")
    evaluate.set_defaults(handler=_evaluate)

    dq_eval = commands.add_parser(
        "dq-eval", help="how well the gates caught the defects mfc synth injected (a table)")
    dq_eval.add_argument("--truth", required=True,
                         help="the folder mfc synth wrote (or its truth/ folder)")
    dq_eval.set_defaults(handler=_dq_eval)

    release = commands.add_parser(
        "release", help="load a quarantined submission with its failures flagged, recording why")
    release.add_argument("submission", type=int, help="the submission id (its report names it)")
    release.add_argument("--reason", required=True,
                         help="why it is released (kept in audit.releases with who and when)")
    release.set_defaults(handler=_release)

    db = commands.add_parser(
        "db", help="the warehouse's schema version (MFC_WAREHOUSE_URL): upgrade it to this "
        "release's, show where it stands, or list the revisions")
    db.add_argument("action", choices=["upgrade", "current", "history"],
                    help="upgrade: apply this release's migrations; current: exit 0 only when "
                    "the warehouse is at this release's version; history: list the revisions")
    db.set_defaults(handler=_db)

    stop = commands.add_parser("stop", help="stop the embedded PostgreSQL that `mfc demo` started")
    stop.set_defaults(handler=_stop)

    airflow = commands.add_parser(
        "airflow", help="a local Airflow (scheduler, dag-processor, triggerer, API server and "
        "UI on localhost:8080) running the nightly DAG: start, stop or status")
    airflow.add_argument("action", choices=("start", "stop", "status"))
    airflow.set_defaults(handler=_airflow)

    args = parser.parse_args(argv)
    # Keep third-party chatter (GX progress bars, platform warnings) off the user's terminal.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    # ...and in this process: platformdirs warns on every import when XDG_RUNTIME_DIR is unset
    # (a service account, a container).
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import psycopg

    try:
        config.state_dir().mkdir(parents=True, exist_ok=True)  # a bad config file: one line
        return args.handler(args)
    except config.ConfigurationError as error:
        # Something the user set (or did not): one line, no traceback.
        print(f"mfc {args.command}: {error}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as error:  # the server went away mid-command
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else "no reason given"
        print(f"mfc {args.command}: the warehouse cannot be reached ({reason})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
