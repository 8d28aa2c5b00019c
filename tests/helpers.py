"""Helpers the tests share: databases on the test server, a small valid council return to copy
and spoil, delivering returns as authorities would, and gating what was delivered."""

from __future__ import annotations

import copy
import csv
import io
import os
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from mfc import landing, pipeline
from mfc.kinds import COUNCIL, kind
from mfc.returns.council import EPISODES, HEADER, MISSING, CollectionYear
from mfc.returns.police import INCIDENTS

CLEVELAND = "E23000013"


def query(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params or None).fetchall()


def database_url(server: str, name: str) -> str:
    """The server's URL with another database (URLs, not key=value: GX needs a URL)."""
    return urlsplit(server)._replace(path=f"/{name}").geturl()


def create_database(server: str) -> str:
    name = f"mfc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return database_url(server, name)


def drop_database(server: str, url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def gate_submission(url: str, submission_id: int, run_id: str = "test-run") -> pipeline.Outcome:
    """Gate one registered council submission: a batch of one."""
    [outcome] = pipeline.gate_and_load_batch(url, COUNCIL, [submission_id], run_id)
    return outcome


def gate_waiting(url: str, source: str = "council",
                 run_id: str = "test-run") -> list[pipeline.Outcome]:
    """Gate every waiting submission of a kind, in the batches the nightly run would use."""
    return pipeline.gate_waiting(url, kind(source), run_id)


def register_and_gate(url: str, landing_dir: Path, source: str = "council",
                      run_id: str = "test-run") -> list[pipeline.Outcome]:
    landing.register_all(url, landing_dir)
    return gate_waiting(url, source, run_id)


def results_of(url: str, submission_id: int) -> dict[str, dict]:
    """The stored check results of a submission, by check id."""
    rows = query(url, "select check_id, result, unexpected_count, message, examples "
                      "from dq.check_results where submission_id = %s", submission_id)
    return {r[0]: {"result": r[1], "count": r[2], "message": r[3], "examples": r[4]}
            for r in rows}

GOOD = {
    "header": [
        {"CHILD": "T001", "SEX": "1", "DOB": "05/01/2010", "ETHNIC": "WBRI", "UPN": "A123456789012",
         "MOTHER": "0", "MC_DOB": ""},
        {"CHILD": "T002", "SEX": "2", "DOB": "17/09/2008", "ETHNIC": "BAFR", "UPN": "",
         "MOTHER": "1", "MC_DOB": "02/02/2024"},
        {"CHILD": "T003", "SEX": "1", "DOB": "29/02/2012", "ETHNIC": "MWBC", "UPN": "B987654321098",
         "MOTHER": "", "MC_DOB": ""},
    ],
    "episodes": [
        {"CHILD": "T001", "DECOM": "01/06/2022", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "K2",
         "PLACE_PROVIDER": "PR4", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "HOME_POST": "TS1 2AB", "PL_POST": "DL3 7QR", "URN": "SC123456"},
        {"CHILD": "T002", "DECOM": "15/04/2023", "RNE": "S", "LS": "V2", "CIN": "N4", "PLACE": "U4",
         "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "HOME_POST": "ts3 6ap", "PL_POST": "TS5", "URN": ""},
        {"CHILD": "T003", "DECOM": "10/10/2021", "RNE": "S", "LS": "C2", "CIN": "N2", "PLACE": "U1",
         "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "HOME_POST": "", "PL_POST": "", "URN": ""},
    ],
    "missing": [
        {"CHILD": "T001", "DOB": "05/01/2010", "MISSING": "M", "MIS_START": "03/05/2023",
         "MIS_END": "04/05/2023"},
        {"CHILD": "T001", "DOB": "05/01/2010", "MISSING": "A", "MIS_START": "12/08/2023",
         "MIS_END": "12/08/2023"},
        {"CHILD": "T002", "DOB": "17/09/2008", "MISSING": "M", "MIS_START": "01/03/2024",
         "MIS_END": ""},
    ],
}
TABLES = {"header": HEADER, "episodes": EPISODES, "missing": MISSING}


def good_tables() -> dict[str, list[dict[str, str]]]:
    return copy.deepcopy(GOOD)


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def deliver(landing: Path, tables: dict[str, list[dict[str, str]]] | None = None,
            authority: str = "806", year: str = "2023-24",
            files: dict[str, bytes | None] | None = None) -> Path:
    """Write a return as a council would, under landing/council/<authority>/<year>/.

    `files` replaces a file (bytes) or leaves it out (None). Returns the landing folder.
    """
    tables = tables if tables is not None else good_tables()
    folder = landing / "council" / authority / year
    folder.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes | None] = {
        TABLES[name].file_name: to_csv(rows, TABLES[name].columns) for name, rows in tables.items()
    }
    contents.update(files or {})
    for name, data in contents.items():
        if data is not None:
            (folder / name).write_bytes(data)
            on_time(folder / name, year)
    return landing


def on_time(path: Path, year: str) -> None:
    """Date a file 1 May after its collection year, as a council delivering on time would."""
    try:
        due = CollectionYear.parse(year).end
    except ValueError:
        return
    stamp = datetime(due.year, 5, 1).timestamp()
    os.utime(path, (stamp, stamp))


def gate_council(url: str, landing_dir: Path) -> tuple[pipeline.Outcome, dict[str, dict]]:
    """Register the one council return delivered and gate it: its outcome and results."""
    [submission_id] = landing.register_all(url, landing_dir)
    return gate_submission(url, submission_id), results_of(url, submission_id)


def police_month_file(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(INCIDENTS.columns)
    writer.writerows(rows)
    return out.getvalue()


def deliver_police(root: Path, month: str, rows: list[list[str]], force: str = CLEVELAND) -> Path:
    path = root / "landing" / "police" / force / f"{month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(police_month_file(rows))
    return root / "landing"


def gate_police(url: str, landing_dir: Path) -> dict[int, tuple[str, dict[str, dict]]]:
    landing.register_all(url, landing_dir)
    return {o.submission_id: (o.status, results_of(url, o.submission_id))
            for o in gate_waiting(url, "police")}


AGGREGATE_HEADER = ["AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "ROUNDED_TO", "NOTE"]
AGGREGATE_GOOD = [
    ["Middlesbrough", "01/04/2023", "31/03/2024", "children_missing", "120", "", ""],
    ["806", "01/04/2022", "31/03/2023", "children_missing", "<5", "", ""],
    ["E06000001", "01/04/2023", "31/03/2024", "children_missing", "fewer than five", "", ""],
    ["Hartlepool", "01/04/2022", "31/03/2023", "children_missing", "c", "", ""],
    ["Cleveland Police", "01/01/2023", "31/12/2023", "missing_incidents", "1,234", "", ""],
    ["E23000013", "01/04/2023", "31/03/2024", "missing_incidents", "1300", "10", ""],
    ["North Yorkshire", "01/04/2023", "31/03/2024", "children_missing", "*", "", ""],
    ["England", "01/04/2023", "31/03/2024", "children_missing", "x", "", ""],
    ["Wales", "01/04/2023", "31/03/2024", "children_missing", "", "", "not collected"],
]


def deliver_aggregate(root: Path, rows: list[list[str]], name: str = "answer.csv",
                      header: list[str] = AGGREGATE_HEADER) -> Path:
    folder = root / "landing" / "aggregate" / "foi-2024-0412"
    folder.mkdir(parents=True, exist_ok=True)
    if name.endswith(".xlsx"):
        from openpyxl import Workbook

        book = Workbook()
        for row in [header, *rows]:
            book.active.append(row)
        book.save(folder / name)
    else:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *rows])
        (folder / name).write_text(out.getvalue())
    return root / "landing"


def dbt_build(url: str, tmp_path: Path, monkeypatch, *args: str) -> None:
    """Run dbt in this process on the warehouse at url (as its user); args after the command's
    own, e.g. "build", "--select", "+dq_submissions"."""
    from dbt.cli.main import dbtRunner

    from mfc import config

    for name, value in config.dbt_target(url).as_env().items():
        monkeypatch.setenv(name, value)
    project = str(config.dbt_project_dir())
    result = dbtRunner().invoke([
        *args, "--project-dir", project, "--profiles-dir", project,
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        "--quiet",
    ])
    failed = [r.node.name for r in result.result or [] if r.status not in ("pass", "success")]
    assert result.success, f"dbt {args[0]} failed: {failed or result.exception}"


# What differs between two runs over the same files however they went: when things happened,
# which run did them, and the ids the database handed out (a killed run uses some up).
# Keys hashed from submission ids (incident_key, value_key, child_id) differ with them: the rows
# they name are compared by everything else.
_RUN_SPECIFIC = (r"(_at|_on_run|run_id|submission_id|submission_ids|_path|incident_key|value_key"
                 r"|child_id)$")


def marts_snapshot(url: str) -> dict[str, list]:
    """Every mart's rows, in a stable order, without what is specific to one run."""
    import re

    columns = query(url, "select table_name, column_name from information_schema.columns "
                         "where table_schema = 'marts' order by table_name, ordinal_position")
    kept: dict[str, list[str]] = {}
    for table, column in columns:
        if not re.search(_RUN_SPECIFIC, column):
            kept.setdefault(table, []).append(f'"{column}"')
    return {table: query(url, f"select {', '.join(cols)} from marts.\"{table}\" as r "
                              f"order by ({', '.join(cols)})::text")
            for table, cols in kept.items()}
