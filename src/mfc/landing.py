"""Deliveries in the landing folder: find them, fingerprint them, archive them, register them.

Layout:
- council (docs/returns/council.md): <landing>/council/<authority>/<collection-year>/<table>.csv,
  where <authority> is a GSS code, DfE code or name and <collection-year> is like 2023-24;
- police (docs/returns/police.md): <landing>/police/<force>/<YYYY-MM>.csv, one submission per
  force and month, <force> the police force area's GSS code;
- aggregate (docs/returns/aggregate.md): <landing>/aggregate/<source>/<name>.csv or .xlsx, one
  submission per file, <source> naming where the figures came from (e.g. foi-2024-0412).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

from mfc import config
from mfc.geography import AuthorityRegister, UnknownAuthority
from mfc.returns import aggregate, council, police
from mfc.returns.council import CollectionYear

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    sha256: str
    bytes: int

    @property
    def table_name(self) -> str | None:
        """The return table this file is, by its name or its column names; None if neither."""
        table = council.recognise(self.path.name, _first_line_columns(self.path))
        return table.name if table else None


def _first_line_columns(path: Path) -> list[str] | None:
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as stream:
        first = stream.readline(1 << 16)
    text = first.decode("utf-8-sig", errors="replace")
    return [council.normalise_column(c) for c in next(csv.reader(io.StringIO(text)), [])]


@dataclass(frozen=True)
class Delivery:
    source: str
    folder: Path
    authority_as_delivered: str
    collection_year: str
    files: tuple[DeliveredFile, ...]

    def table_of(self, f: DeliveredFile) -> str | None:
        if self.source == "police":
            return police.INCIDENTS.name if f.path.suffix.lower() == ".csv" else None
        if self.source == "aggregate":
            return aggregate.VALUES.name if f.path.suffix.lower() in aggregate.SUFFIXES else None
        return f.table_name

    @property
    def fileset_sha256(self) -> str:
        """One fingerprint for the set: the same bytes under the same names give the same value."""
        digest = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.path.name.lower()):
            digest.update(f"{f.path.name.lower()}\0{f.sha256}\n".encode())
        return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(landing_dir: Path) -> list[Delivery]:
    """Every delivery under the landing folder, council then police, in a stable order."""
    return [*_discover_council(landing_dir), *_discover_police(landing_dir),
            *_discover_aggregate(landing_dir)]


def _discover_aggregate(landing_dir: Path) -> list[Delivery]:
    """Each file of figures is a delivery of its own, named by its folder and file name."""
    folder = landing_dir / "aggregate"
    for stray in sorted(folder.glob("*")):
        if stray.is_file() and not stray.name.startswith("."):
            log.warning("ignored %s: files belong in aggregate/<source>/<name>.csv", stray)
    return [
        Delivery("aggregate", path.parent, path.parent.name, path.stem,
                 (DeliveredFile(path, sha256_of(path), path.stat().st_size),))
        for path in sorted(folder.glob("*/*"))
        if path.is_file() and not path.name.startswith(".")
    ]


def _discover_police(landing_dir: Path) -> list[Delivery]:
    """Each month file of each force is a delivery of its own."""
    police_dir = landing_dir / "police"
    for stray in sorted(police_dir.glob("*")):
        if stray.is_file() and not stray.name.startswith("."):
            log.warning("ignored %s: files belong in police/<force>/<YYYY-MM>.csv", stray)
    deliveries = []
    for path in sorted(police_dir.glob("*/*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        month = path.name.rsplit(".", 1)[0] if path.suffix.lower() == ".csv" else path.name
        delivered = DeliveredFile(path, sha256_of(path), path.stat().st_size)
        deliveries.append(Delivery("police", path.parent, path.parent.name, month, (delivered,)))
    return deliveries


def _discover_council(landing_dir: Path) -> list[Delivery]:
    deliveries = []
    council = landing_dir / "council"
    for stray in sorted([*council.glob("*"), *council.glob("*/*")]):
        if stray.is_file() and not stray.name.startswith("."):
            log.warning("ignored %s: files belong in council/<authority>/<collection-year>/", stray)
    for folder in sorted(council.glob("*/*")):
        if not folder.is_dir():
            continue
        files = tuple(
            DeliveredFile(p, sha256_of(p), p.stat().st_size)
            for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")
        )
        if files:
            deliveries.append(
                Delivery("council", folder, folder.parent.name, folder.name, files)
            )
    return deliveries


def resolve(
    delivery: Delivery, register: AuthorityRegister
) -> tuple[str | None, CollectionYear | police.ReturnMonth | None]:
    """The returning body's GSS code (authority or force) and the period, None where unknown.
    An aggregate file may hold figures for many areas and periods: it has neither."""
    if delivery.source == "aggregate":
        return None, None
    if delivery.source == "police":
        try:
            month = police.ReturnMonth.parse(delivery.collection_year)
        except ValueError:
            month = None
        force = delivery.authority_as_delivered.strip().upper()
        return (force if force in police.force_codes() else None), month
    try:
        year = CollectionYear.parse(delivery.collection_year)
    except ValueError:
        return None, None
    try:
        authority = register.resolve(delivery.authority_as_delivered, on=year.end)
    except UnknownAuthority:
        return None, year
    return authority.gss_code, year


def register(
    conn: psycopg.Connection, delivery: Delivery, authorities: AuthorityRegister
) -> int | None:
    """Record a delivery and archive its files; None when the same files were registered before."""
    gss, year = resolve(delivery, authorities)
    with conn.transaction():
        row = conn.execute(
            """
            insert into audit.submissions (source, authority_as_delivered, authority_gss,
                collection_year, period_start, period_end, fileset_sha256, landing_path,
                delivered_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s))
            on conflict do nothing
            returning submission_id
            """,
            (
                delivery.source, delivery.authority_as_delivered, gss,
                year.label if year else delivery.collection_year,
                year.start if year else None, year.end if year else None,
                delivery.fileset_sha256, str(delivery.folder),
                max(f.path.stat().st_mtime for f in delivery.files),
            ),
        ).fetchone()
        if row is None:
            return None
        submission_id = row[0]
        archive = config.archive_dir() / str(submission_id)
        archive.mkdir(parents=True, exist_ok=True)
        for f in delivery.files:
            kept = archive / f.path.name
            shutil.copy2(f.path, kept)
            if sha256_of(kept) != f.sha256:
                raise OSError(f"archived copy of {f.path} does not match its checksum")
            conn.execute(
                """
                insert into audit.submission_files
                    (submission_id, file_name, table_name, sha256, bytes, archived_path)
                values (%s, %s, %s, %s, %s, %s)
                """,
                (submission_id, f.path.name, delivery.table_of(f), f.sha256, f.bytes,
                 str(kept)),
            )
    return submission_id


def register_all(url: str, landing_dir: Path) -> list[int]:
    """Register new deliveries; return every submission still waiting for its gate.

    Submissions left 'received' by an interrupted run are returned too, so they are finished.
    """
    authorities = AuthorityRegister.from_seed()
    with psycopg.connect(url) as conn:
        for delivery in discover(landing_dir):
            register(conn, delivery, authorities)
    return waiting(url)


def waiting(url: str, source: str | None = None) -> list[int]:
    """Registered submissions (of one source, if named) not yet gated, oldest first."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select submission_id from audit.submissions where status = 'received' "
            "and source = coalesce(%s, source) order by submission_id", (source,)
        ).fetchall()
    return [r[0] for r in rows]
