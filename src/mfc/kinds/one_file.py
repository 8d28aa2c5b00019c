"""Return kinds whose every file is a submission of its own, in a folder per returning body:
<landing>/<kind>/<folder>/<file> (police month files, aggregate figures)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from expectations.checks import Check
from mfc import gates
from mfc.files import FileProblem, copy_to_landing, read_columns
from mfc.gates import CheckResult
from mfc.landing import DeliveredFile, Delivery, files_in, subfolders
from mfc.pipeline import Landed, ReturnKind, Waiting
from mfc.returns.table import Table

FAILED_FILE = "the file failed the file or structure checks"


class OneFileKind(ReturnKind):
    table: Table
    columns_check: Check        # every column of the spec is on line 1
    layout: str                 # where files belong, for the log
    suffixes: tuple[str, ...] = (".csv",)

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table,)

    def period_of(self, path: Path) -> str:
        """The period or label the file's name gives."""
        return path.stem if path.suffix.lower() in self.suffixes else path.name

    def discover(self, landing_dir: Path) -> list[Delivery]:
        return [Delivery(self.source, folder, folder.name, self.period_of(f.path), (f,))
                for folder in subfolders(landing_dir / self.source, self.layout)
                for f in files_in(folder)]

    def table_of(self, delivered: DeliveredFile) -> str | None:
        return self.table.name if delivered.path.suffix.lower() in self.suffixes else None

    def delivery_checks(self, waiting: Waiting) -> list[CheckResult]:
        """Checks of the folder and file name, before the file is read."""
        return []

    def read_file(self, waiting: Waiting) -> Path:
        """The file as CSV for COPY."""
        return waiting.file.path

    def after_landing(self, conn: psycopg.Connection, waiting: Waiting) -> None:
        """Anything the rows need from the folder or file name, once landed."""

    def land(self, conn: psycopg.Connection, waiting: Waiting) -> Landed:
        results = self.delivery_checks(waiting)
        failed_file = {self.table.name: FAILED_FILE}
        file_checks = (self.readable, self.columns_check)
        if any(r.blocks for r in results):
            return Landed([*results, *gates.not_run(
                file_checks, "the folder or file name is not recognised.")],
                halted=f"{FAILED_FILE}.")
        f = waiting.file
        try:
            if f.problem:
                raise FileProblem(f.problem)
            path = self.read_file(waiting)
            landed = copy_to_landing(conn, waiting.submission_id, self.table.landing_table,
                                     self.table.reads, path)
            delivered = read_columns(path)
        except FileProblem as problem:
            return Landed([*results,
                           CheckResult(self.readable, "FAIL", 1, 1,
                                       [{"file": f.file_name, "values": {}}],
                                       f"{problem}. {self.readable.message}"),
                           *gates.not_run((self.columns_check,), "the file cannot be read.")],
                          unusable=failed_file)
        conn.execute(
            "update audit.submission_files set columns_delivered = %s "
            "where submission_id = %s and file_name = %s",
            (delivered, waiting.submission_id, f.file_name),
        )
        if landed:
            self.after_landing(conn, waiting)
        columns = gates.columns_result(self.columns_check, f.file_name, delivered,
                                       self.table.columns)
        return Landed([*results, CheckResult(self.readable, "PASS", 0, 1), columns],
                      {self.table.name: f.file_name},
                      failed_file if columns.blocks else {})
