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


def encoding_of(data: bytes) -> str | None:
    """UTF8, else WIN1252 when the bytes read as Windows-1252 (what Excel's plain "CSV" and
    many case-management exports write), as PostgreSQL names them; None for neither."""
    for python_name, postgres_name in (("utf-8", "UTF8"), ("cp1252", "WIN1252")):
        try:
            data.decode(python_name)
            return postgres_name
        except UnicodeDecodeError:
            continue
    return None


def inspect(path: Path, expected_name: str) -> tuple[list[Finding], str | None]:
    """File-stage findings for one table's file (after a blocking one nothing more is said),
    and the encoding to read it with."""
    name = path.name
    data = path.read_bytes()
    kind = next((what for magic, what in WORKBOOKS.items() if data.startswith(magic)), None)
    if kind or path.suffix.lower() != ".csv":
        what = kind or f"a {path.suffix or 'suffix-less'} file"
        return [Finding("mfc.file.format", name, None,
                        f"{name} is {what}, not CSV: save it as CSV UTF-8 (comma delimited) "
                        f"and deliver it as {expected_name}")], None
    if not data.lstrip(BOM).strip():
        return [Finding("mfc.file.empty", name, None,
                        f"{name} is empty ({len(data)} bytes): the export may have failed")], None
    findings = []
    if data.startswith(BOM):
        findings.append(Finding("mfc.file.bom", name, 1,
                                f"{name} starts with a byte order mark; it is accepted"))
    first, _, _ = data.partition(b"\n")
    encoding = encoding_of(data)
    if encoding != "UTF8":
        line, byte = _first_non_utf8(data)
        if encoding is None:
            return [*findings, Finding(
                "mfc.file.readable", name, line,
                f"{name} line {line} is not UTF-8 text ({byte}), nor Windows-1252: save it as "
                "CSV UTF-8")], None
        findings.append(Finding(
            "mfc.file.encoding", name, line,
            f"{name} is not UTF-8 (line {line}, {byte}): it was read as Windows-1252, as Excel "
            "writes CSV; check accented letters came through, and save as CSV UTF-8 next time"))
    columns = _fields(first.decode("utf-8-sig" if encoding == "UTF8" else "cp1252"))
    if len(columns) == 1:
        for separator, word in SEPARATORS.items():
            if separator in columns[0]:
                return [*findings, Finding(
                    "mfc.file.delimiter", name, 1,
                    f"{name} line 1 separates its fields with {word}, not commas: save it as "
                    "CSV UTF-8 (comma delimited)")], encoding
    if not data.endswith((b"\n", b"\r")):
        lines = data.count(b"\n") + 1
        last = data[data.rfind(b"\n") + 1:].decode("utf-8", errors="replace")  # count only
        given = len(_fields(last))
        if given < len(columns):
            return [*findings, Finding(
                "mfc.file.truncated", name, lines,
                f"{name} ends part-way through line {lines}, which has {given} of "
                f"{len(columns)} fields and no line ending: the file was cut short")], encoding
    return findings, encoding


def _first_non_utf8(data: bytes) -> tuple[int, str]:
    """The line and the byte where UTF-8 decoding first fails."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return data.count(b"\n", 0, err.start) + 1, f"byte 0x{data[err.start]:02x}"
    raise ValueError("the data are UTF-8")


def _fields(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line.rstrip("\r"))), [])
