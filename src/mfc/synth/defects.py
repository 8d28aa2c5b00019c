"""Defects injected into council returns, each one listed in truth/defects.csv.

Row defects hit a share `rate` of missing.csv rows; a return gets one file defect (a kind drawn
at random) with probability 5 x rate, so that whole-file problems are seen often enough to test.
Every manifest row names the file, the line as delivered (1 = column names; blank for a whole
file), the column, the kind and the check that should catch it (a DfE rule number, or an mfc
check id; ids not yet implemented are issue 5's). verify() re-reads a delivered file and says
whether a listed defect is really there.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

from mfc.returns.council import EPISODES, HEADER, MISSING
from mfc.synth.simulate import rng_for

FILE_DEFECTS_PER_ROW_DEFECT = 5
# kind -> (column, check that should catch it)
ROW_KINDS = {
    "bad_start_date": ("MIS_START", "1004"),
    "bad_end_date": ("MIS_END", "1005"),
    "end_before_start": ("MIS_END", "567"),
    "invalid_missing_code": ("MISSING", "1006"),
    "duplicate_period": ("MIS_START", "mfc.missing.duplicate_period"),
    "overlapping_period": ("MIS_END", "574"),
    "child_not_in_header": ("CHILD", "INT04"),
    "before_dob": ("MIS_START", "586"),
    "not_looked_after": ("MIS_START", "581"),
    "open_at_year_end": ("MIS_END", "mfc.missing.open_at_year_end"),
}
FILE_KINDS = {
    "missing_column": ("missing.csv", "MIS_END", "mfc.missing.columns"),
    "renamed_column": ("missing.csv", "MIS_START", "mfc.missing.columns"),
    "extra_column": ("missing.csv", "LA_NOTE", "mfc.missing.unknown_column"),
    "latin1_encoding": ("episodes.csv", "URN", "mfc.file.encoding"),
    "utf8_bom": ("header.csv", "", "mfc.file.bom"),
    "semicolon_delimiter": ("missing.csv", "", "mfc.file.delimiter"),
    "xlsx_not_csv": ("missing.xlsx", "", "mfc.file.format"),
    "empty_file": ("missing.csv", "", "mfc.file.empty"),
    "truncated_file": ("missing.csv", "", "mfc.file.truncated"),
    "corrected_resubmission": ("missing.csv", "", "mfc.submission.superseded"),
}
# No "late" defect: lateness is judged on when the warehouse receives a return, not on
# anything in its files (tests/test_cross_submission.py, tests/test_national_page.py).
# File defects after which missing.csv rows can no longer be read as CSV rows.
UNREADABLE = {"missing_column", "renamed_column", "semicolon_delimiter", "xlsx_not_csv",
              "empty_file", "truncated_file"}


def to_csv(columns, rows, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


def _parse(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class Injector:
    def __init__(self, seed: int, rate: float) -> None:
        self.seed = seed
        self.rate = rate

    def apply(self, key: str, tables: dict[str, list[list[str]]], truth: list,
              context: dict) -> tuple[dict[str, bytes], list[tuple], list, dict]:
        """Spoil one return. Returns (files by delivered name, manifest, truth, extras).

        extras may hold 'earlier' (files of a faulty first delivery) and 'delivered' (a date).
        """
        rows = tables["missing"]
        manifest: list[tuple] = []
        extras: dict = {}
        if self.rate <= 0:
            return self._plain(tables), manifest, truth, extras
        rng = rng_for(self.seed, key, "defects")
        file_kind = None
        if rng.random() < FILE_DEFECTS_PER_ROW_DEFECT * self.rate:
            file_kind = list(FILE_KINDS)[int(rng.integers(0, len(FILE_KINDS)))]
        if file_kind not in UNREADABLE:
            truth = self._rows(rng, rows, truth, context, manifest)
        files = self._plain(tables)
        if file_kind:
            self._file(file_kind, tables, files, manifest, extras)
        return files, manifest, truth, extras

    @staticmethod
    def _plain(tables) -> dict[str, bytes]:
        return {spec.file_name: to_csv(spec.columns, tables[spec.name])
                for spec in (HEADER, EPISODES, MISSING)}

    def _rows(self, rng, rows, truth, context, manifest) -> list:
        hits = sorted(int(i) for i in rng.choice(len(rows), size=rng.binomial(len(rows),
                                                                               self.rate),
                                                 replace=False)) if rows else []
        inserted = 0
        spoilt: list[tuple[int, str]] = []  # (row index after insertions, kind)
        touched: set[int] = set()
        for original in hits:
            i = original + inserted
            row = rows[i]
            kind = list(ROW_KINDS)[int(rng.integers(0, len(ROW_KINDS)))]
            start, end = _parse(row[3]), _parse(row[4])
            dob = context["dobs"].get(row[0])
            care_from = context["starts"].get(row[0])
            previous = rows[i - 1] if i > 0 and rows[i - 1][0] == row[0] else None
            if start is None or i in touched or (kind == "overlapping_period"
                                                 and i - 1 in touched):
                continue  # one defect per row, so each stays what the manifest says
            if kind == "bad_start_date":
                row[3] = f"31/02/{start.year}" if i % 2 else start.isoformat()
            elif kind == "bad_end_date" and end:
                row[4] = f"32/{end.month:02d}/{end.year}"
            elif kind == "end_before_start":
                row[4] = _uk(start - timedelta(days=2))
            elif kind == "invalid_missing_code":
                row[2] = "X"
            elif kind == "duplicate_period":
                rows.insert(i + 1, list(row))
                truth.insert(i + 1, truth[i])
                inserted += 1
                i += 1
            elif kind == "overlapping_period" and previous and _parse(previous[3]) \
                    and _parse(previous[3]) < start:
                previous[4] = _uk(start + timedelta(days=1))
                i -= 1
            elif kind == "child_not_in_header":
                row[0] = f"{row[0]}Z"
            elif kind == "before_dob" and dob:
                row[3] = _uk(dob - timedelta(days=30))
            elif kind == "not_looked_after" and care_from and (care_from.month,
                                                                care_from.day) != (4, 1):
                row[3] = _uk(care_from - timedelta(days=20))  # came into care this year
            elif kind == "open_at_year_end" and end:
                row[4] = ""
            else:
                continue
            spoilt.append((i, kind))
            touched.update((i - 1, i, i + 1) if kind in ("duplicate_period", "overlapping_period")
                           else (i,))
        for i, kind in spoilt:
            column, check = ROW_KINDS[kind]
            manifest.append(("missing.csv", i + 2, column, kind, check))
        return truth

    def _file(self, kind, tables, files, manifest, extras) -> None:
        name, column, check = FILE_KINDS[kind]
        line: int | str = ""
        if kind == "missing_column":
            files["missing.csv"] = to_csv(MISSING.columns[:4], [r[:4] for r in tables["missing"]])
            line = 1
        elif kind == "renamed_column":
            files["missing.csv"] = to_csv(["CHILD", "DOB", "MISSING", "MISSING_START", "MIS_END"],
                                          tables["missing"])
            line = 1
        elif kind == "extra_column":
            files["missing.csv"] = to_csv([*MISSING.columns, "LA_NOTE"],
                                          [[*r, "checked"] for r in tables["missing"]])
            line = 1
        elif kind == "latin1_encoding" and tables["episodes"]:
            episodes = [list(r) for r in tables["episodes"]]
            episodes[0][12] = "CAFÉ01"
            files["episodes.csv"] = to_csv(EPISODES.columns, episodes).decode().encode("latin-1")
            line = 2
        elif kind == "utf8_bom":
            files["header.csv"] = "\ufeff".encode() + files["header.csv"]
        elif kind == "semicolon_delimiter":
            files["missing.csv"] = to_csv(MISSING.columns, tables["missing"], delimiter=";")
        elif kind == "xlsx_not_csv":
            files.pop("missing.csv")
            files["missing.xlsx"] = _xlsx(MISSING.columns, tables["missing"])
        elif kind == "empty_file":
            files["missing.csv"] = b""
        elif kind == "truncated_file" and tables["missing"]:
            data = files["missing.csv"]
            cut = data.rstrip(b"\n").rfind(b"\n") + 1 + 8  # eight bytes into the last row
            files["missing.csv"] = data[:cut]
            line = len(tables["missing"]) + 1
        elif kind == "corrected_resubmission" and tables["missing"] \
                and _parse(tables["missing"][0][3]):  # a row defect may have spoilt its date
            earlier = [list(r) for r in tables["missing"]]
            start = _parse(earlier[0][3])
            earlier[0][4] = _uk(start - timedelta(days=2))
            extras["earlier"] = {**files, "missing.csv": to_csv(MISSING.columns, earlier)}
            line = 2
        else:
            return
        manifest.append((name, line, column, kind, check))


def _xlsx(columns, rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append(row)
    # A fixed timestamp keeps the file byte-identical from run to run.
    book.properties.created = book.properties.modified = datetime(2020, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def verify(out: Path, file: str, line: str, column: str, kind: str) -> bool:
    """Is the listed defect really in the delivered file?"""
    path = out / file
    if kind == "corrected_resubmission":  # the earlier delivery differs from the one in landing/
        corrected = out / file.replace("resubmissions/1/", "landing/", 1)
        return path.read_bytes() != corrected.read_bytes()
    data = path.read_bytes()
    if kind == "empty_file":
        return data == b""
    if kind == "xlsx_not_csv":
        return data[:2] == b"PK" and not path.with_suffix(".csv").exists()
    if kind == "utf8_bom":
        return data.startswith("\ufeff".encode())
    if kind == "latin1_encoding":
        try:
            data.decode("utf-8")
            return False
        except UnicodeDecodeError:
            return b"CAF\xc9" in data.splitlines()[int(line) - 1]
    if kind == "semicolon_delimiter":
        return data.splitlines()[0].count(b";") == len(MISSING.columns) - 1
    if kind == "truncated_file":
        last = data.decode().split("\n")[int(line) - 1]
        return not data.endswith(b"\n") and last.count(",") < len(MISSING.columns) - 1
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    if kind == "missing_column":
        return column not in header
    if kind == "renamed_column":
        return column not in header and "MISSING_START" in header
    if kind == "extra_column":
        return column in header
    row = dict(zip(header, rows[int(line) - 1], strict=False))
    previous = dict(zip(header, rows[int(line) - 2], strict=False))
    following = dict(zip(header, rows[int(line)], strict=False)) if int(line) < len(rows) else {}
    start, end = _parse(row["MIS_START"]), _parse(row["MIS_END"])
    return {
        "bad_start_date": start is None,
        "bad_end_date": bool(row["MIS_END"]) and end is None,
        "end_before_start": bool(start and end and end < start),
        "invalid_missing_code": row["MISSING"] not in ("M", "A"),
        "duplicate_period": row == previous,
        "overlapping_period": bool(following and following["CHILD"] == row["CHILD"] and end
                                   and _parse(following["MIS_START"])
                                   and _parse(following["MIS_START"]) <= end),
        "child_not_in_header": row["CHILD"] not in _column(path.parent / "header.csv", "CHILD"),
        "before_dob": bool(start and _parse(row["DOB"]) and start < _parse(row["DOB"])),
        "not_looked_after": bool(start) and all(
            start < (_parse(d) or date.max)
            for c, d in zip(_column(path.parent / "episodes.csv", "CHILD"),
                            _column(path.parent / "episodes.csv", "DECOM"), strict=True)
            if c == row["CHILD"]),
        "open_at_year_end": row["MIS_END"] == "",
    }[kind]


def _column(path: Path, name: str) -> list[str]:
    # errors="replace": a neighbouring file may carry its own (encoding) defect.
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        return [row[name] for row in csv.DictReader(f)]
