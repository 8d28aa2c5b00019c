"""Delivered files, for every return kind: line 1 (the column names), COPY into landing, and
what is wrong with a file before PostgreSQL reads it (the file-stage checks).

Only the first and last lines are parsed in Python; the rows themselves are read by COPY. Each
finding names the check (expectations.council SUBMISSION), the file, the line and what is wrong,
in words a data team can act on.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from mfc.returns.table import normalise_column

BOM = b"\xef\xbb\xbf"
WORKBOOKS = {b"PK\x03\x04": "an Excel workbook (.xlsx)",
             b"\xd0\xcf\x11\xe0": "an Excel 97 workbook (.xls)"}
BINARIES = {b"\x1f\x8b": "a gzip-compressed file", b"%PDF": "a PDF document",
            b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image"}
LINE_ONE_LIMIT = 1 << 16  # a first line longer than this is not a line of column names


class FileProblem(Exception):
    """A delivered file that cannot be read; the message names file and line."""


def _line_one(path: Path) -> bytes:
    """The bytes of line 1, whichever line ending the file uses (LF, CRLF or a lone CR)."""
    with path.open("rb") as stream:
        head = stream.read(LINE_ONE_LIMIT)
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    return head[:min(ends)] if ends else head


def _parse_line(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)), [])


def read_columns(path: Path, encoding: str = "UTF8") -> list[str]:
    """The column names on line 1, normalised; FileProblem if there are none to read.
    encoding: as PostgreSQL names it (UTF8, or WIN1252: see encoding_of)."""
    first = _line_one(path)
    if not first.strip():
        raise FileProblem(f"{path.name} is empty" if not first else f"{path.name} line 1 is blank")
    if b"\x00" in first:
        raise FileProblem(f"{path.name} line 1 holds NUL bytes: it is not a text file")
    try:
        text = first.decode("cp1252" if encoding == "WIN1252" else "utf-8-sig")
    except UnicodeDecodeError as err:
        raise FileProblem(f"{path.name} line 1 is not UTF-8 text ({err.reason} at byte "
                          f"{err.start})") from err
    try:
        columns = [normalise_column(c) for c in _parse_line(text)]
    except csv.Error as err:
        raise FileProblem(f"{path.name} line 1 cannot be read as CSV ({err})") from err
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise FileProblem(f"{path.name} line 1 names column(s) {', '.join(repeated)} twice")
    return columns


def column_names(path: Path) -> list[str] | None:
    """Line 1's column names, or None when the file has none that can be read (to recognise a
    file by its columns; the gate says what is wrong with it)."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        return read_columns(path)
    except (FileProblem, OSError):
        return None


def copy_to_landing(conn: psycopg.Connection, submission_id: int, landing_table: str,
                    wanted: Callable[[str], bool], path: Path,
                    encoding: str = "UTF8") -> list[str]:
    """COPY a delivered file into its landing table, the columns `wanted` accepts; return them
    (none: nothing is landed, and the structure check names every column missing)."""
    columns = read_columns(path, encoding)
    fields = [sql.Identifier(f"c{i}") for i in range(len(columns))]
    known = [(col, fields[i]) for i, col in enumerate(columns) if wanted(col)]
    if not known:
        return []
    try:
        with conn.transaction():
            conn.execute(sql.SQL(
                "create temp table delivered (line_no integer generated always as identity, {})"
            ).format(sql.SQL(", ").join(sql.SQL("{} text").format(f) for f in fields)))
            copy = sql.SQL(
                "copy delivered ({}) from stdin (format csv, header true, encoding {})"
            ).format(sql.SQL(", ").join(fields), sql.Literal(encoding))
            with conn.cursor().copy(copy) as stream, path.open("rb") as source:
                for block in iter(lambda: source.read(1 << 20), b""):
                    stream.write(block)
            conn.execute(sql.SQL(
                "insert into {} (submission_id, line_no, {}) "
                "select %s, line_no + 1, {} from delivered"  # line 1 holds the column names
            ).format(
                sql.SQL(landing_table),
                sql.SQL(", ").join(sql.Identifier(col.lower()) for col, _ in known),
                sql.SQL(", ").join(sql.SQL("nullif(btrim({}), '')").format(f) for _, f in known),
            ), (submission_id,))
            conn.execute("drop table delivered")
    except psycopg.errors.DataError as err:
        message = err.diag.message_primary or str(err)
        for i, column in enumerate(columns):  # say the delivered column, not our c0, c1 ...
            message = message.replace(f'"c{i}"', column)
        raise FileProblem(f"{path.name} {_copy_line(err)}{message}") from err
    return [col for col, _ in known]


def _copy_line(err: psycopg.Error) -> str:
    """'line N: ' from COPY's error context ('COPY delivered, line 5, column c2: ...')."""
    context = err.diag.context or ""
    if ", line " in context:
        number = context.split(", line ", 1)[1].split(",", 1)[0].split(":", 1)[0]
        return f"line {number}: "
    return ""
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class Finding:
    check_id: str
    file: str
    line: int | None
    message: str


def encoding_of(path: Path) -> tuple[str | None, int, str]:
    """UTF8, else WIN1252 when the bytes read as Windows-1252 (what Excel's plain "CSV" and
    many case-management exports write), as PostgreSQL names them; None for neither. Read in
    blocks, so a huge file costs no memory. Also the line and byte where UTF-8 first fails."""
    utf8, cp1252 = codecs.getincrementaldecoder("utf-8")(), codecs.getincrementaldecoder("cp1252")()
    first_bad: tuple[int, str] | None = None
    lines, offset = 1, 0
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            if first_bad is None:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError as err:
                    at = max(err.start, 0)
                    first_bad = (lines + block.count(b"\n", 0, at), f"byte 0x{block[at]:02x}"
                                 if at < len(block) else "at the end")
            try:
                cp1252.decode(block)
            except UnicodeDecodeError:
                return None, *(first_bad or (lines, "?"))
            lines += block.count(b"\n")
            offset += len(block)
    if first_bad is None:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            return "WIN1252", lines, "at the end"
        return "UTF8", 0, ""
    return "WIN1252", *first_bad


def _head_and_tail(path: Path) -> tuple[bytes, bytes, int]:
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(LINE_ONE_LIMIT)
        stream.seek(max(size - LINE_ONE_LIMIT, 0))
        tail = stream.read()
    return head, tail, size


def inspect(path: Path, expected_name: str) -> tuple[list[Finding], str | None]:
    """File-stage findings for one table's file (after a blocking one nothing more is said),
    and the encoding to read it with."""
    name = path.name
    head, tail, size = _head_and_tail(path)
    kind = next((what for magic, what in {**WORKBOOKS, **BINARIES}.items()
                 if head.startswith(magic)), None)
    if kind or path.suffix.lower() != ".csv":
        what = kind or f"a {path.suffix or 'suffix-less'} file"
        return [Finding("mfc.file.format", name, None,
                        f"{name} is {what}, not CSV: save it as CSV UTF-8 (comma delimited) "
                        f"and deliver it as {expected_name}")], None
    if not head.lstrip(BOM).strip():
        return [Finding("mfc.file.empty", name, None,
                        f"{name} is empty ({size} bytes): the export may have failed")], None
    if b"\x00" in head:
        return [Finding("mfc.file.format", name, None,
                        f"{name} holds NUL bytes: it is a binary file, not CSV text; save it as "
                        f"CSV UTF-8 (comma delimited) and deliver it as {expected_name}")], None
    findings = []
    if head.startswith(BOM):
        findings.append(Finding("mfc.file.bom", name, 1,
                                f"{name} starts with a byte order mark; it is accepted"))
    encoding, line, byte = encoding_of(path)
    if encoding != "UTF8":
        if encoding is None:
            return [*findings, Finding(
                "mfc.file.readable", name, line,
                f"{name} line {line} is not UTF-8 text ({byte}), nor Windows-1252: save it as "
                "CSV UTF-8")], None
        findings.append(Finding(
            "mfc.file.encoding", name, line,
            f"{name} is not UTF-8 (line {line}, {byte}): it was read as Windows-1252, as Excel "
            "writes CSV; check accented letters came through, and save as CSV UTF-8 next time"))
    try:
        columns = read_columns(path, encoding)
    except FileProblem as problem:
        return [*findings, Finding("mfc.file.readable", name, 1, str(problem))], None
    if len(columns) == 1:
        for separator, word in SEPARATORS.items():
            if separator in columns[0]:
                return [*findings, Finding(
                    "mfc.file.delimiter", name, 1,
                    f"{name} line 1 separates its fields with {word}, not commas: save it as "
                    "CSV UTF-8 (comma delimited)")], encoding
    if not tail.endswith((b"\n", b"\r")):
        lines = _count_lines(path)
        last = tail[max(tail.rfind(b"\n"), tail.rfind(b"\r")) + 1:]
        try:
            given = len(_parse_line(last.decode("utf-8", errors="replace")))
        except csv.Error:
            given = 0
        if given < len(columns):
            return [*findings, Finding(
                "mfc.file.truncated", name, lines,
                f"{name} ends part-way through line {lines}, which has {given} of "
                f"{len(columns)} fields and no line ending: the file was cut short")], encoding
    return findings, encoding


def _count_lines(path: Path) -> int:
    """Lines as a reader counts them: CR-only files (classic Mac) end lines with CR."""
    newlines = returns = 0
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            newlines += block.count(b"\n")
            returns += block.count(b"\r")
    return (newlines or returns) + 1
