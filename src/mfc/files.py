"""What is wrong with a delivered file before PostgreSQL reads it: the file-stage checks.

Only the first and last lines are parsed here; the rows themselves are read by COPY. Each
finding names the check (expectations.council SUBMISSION), the file, the line and what is wrong,
in words a data team can act on.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

BOM = b"\xef\xbb\xbf"
WORKBOOKS = {b"PK\x03\x04": "an Excel workbook (.xlsx)",
             b"\xd0\xcf\x11\xe0": "an Excel 97 workbook (.xls)"}
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class Finding:
    check_id: str
    file: str
    line: int | None
    message: str


def inspect(path: Path, expected_name: str) -> list[Finding]:
    """File-stage findings for one table's file; after a blocking one nothing more is said."""
    name = path.name
    data = path.read_bytes()
    kind = next((what for magic, what in WORKBOOKS.items() if data.startswith(magic)), None)
    if kind or path.suffix.lower() != ".csv":
        what = kind or f"a {path.suffix or 'suffix-less'} file"
        return [Finding("mfc.file.format", name, None,
                        f"{name} is {what}, not CSV: save it as CSV UTF-8 (comma delimited) "
                        f"and deliver it as {expected_name}")]
    if not data.lstrip(BOM).strip():
        return [Finding("mfc.file.empty", name, None,
                        f"{name} is empty ({len(data)} bytes): the export may have failed")]
    findings = []
    if data.startswith(BOM):
        findings.append(Finding("mfc.file.bom", name, 1,
                                f"{name} starts with a byte order mark; it is accepted"))
    first, _, _ = data.partition(b"\n")
    try:
        columns = _fields(first.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        return [*findings, Finding("mfc.file.readable", name, 1,
                                   f"{name} line 1 is not UTF-8 text (byte 0x{first[err.start]:02x}"
                                   f" at position {err.start + 1}): save it as CSV UTF-8")]
    if len(columns) == 1:
        for separator, word in SEPARATORS.items():
            if separator in columns[0]:
                return [*findings, Finding(
                    "mfc.file.delimiter", name, 1,
                    f"{name} line 1 separates its fields with {word}, not commas: save it as "
                    "CSV UTF-8 (comma delimited)")]
    if not data.endswith((b"\n", b"\r")):
        lines = data.count(b"\n") + 1
        last = data[data.rfind(b"\n") + 1:].decode("utf-8", errors="replace")
        given = len(_fields(last))
        if given < len(columns):
            return [*findings, Finding(
                "mfc.file.truncated", name, lines,
                f"{name} ends part-way through line {lines}, which has {given} of "
                f"{len(columns)} fields and no line ending: the file was cut short")]
    return findings


def _fields(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line.rstrip("\r"))), [])
