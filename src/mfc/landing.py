"""Deliveries in the landing folder: find them, fingerprint them, archive them, register them.

Each return kind (mfc.kinds) says where its deliveries sit under the landing folder and what
they are; this module does what is common to all: it never follows a symbolic link, never
opens anything but a regular file, and registers whatever a delivery holds (a file it cannot
read is registered with the reason, and the gate quarantines it) so that one bad delivery never
stops the others. A delivery still being written is left for the next run.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from mfc import config, faults
from mfc.geography import AuthorityRegister

log = logging.getLogger(__name__)

COMPLETE_MARKER = ".complete"  # a delivery folder holding it is complete, however new


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    sha256: str | None          # None when the file cannot be read (see problem)
    bytes: int
    modified: float             # st_mtime, seconds since the epoch
    problem: str | None = None  # why the file cannot be read: the gate quarantines it

    @classmethod
    def at(cls, path: Path) -> DeliveredFile:
        """Fingerprint a delivered file; a link, a special file or an unreadable one is kept
        with the reason instead (never followed, never opened)."""
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return cls(path, None, info.st_size, info.st_mtime,
                       f"{path.name} is a symbolic link: links are not followed; deliver the "
                       "file itself")
        if not stat.S_ISREG(info.st_mode):
            return cls(path, None, 0, info.st_mtime,
                       f"{path.name} is not a regular file (a folder, pipe or device)")
        try:
            return cls(path, sha256_of(path), info.st_size, info.st_mtime)
        except OSError as err:
            return cls(path, None, info.st_size, info.st_mtime,
                       f"{path.name} cannot be read ({err.strerror or err})")

    @property
    def fingerprint(self) -> str:
        return self.sha256 or f"unreadable:{self.bytes}:{self.modified}:{self.problem}"


@dataclass(frozen=True)
class Delivery:
    source: str                 # the return kind (mfc.kinds)
    folder: Path
    authority_as_delivered: str
    collection_year: str        # the period as delivered: collection year, month or label
    files: tuple[DeliveredFile, ...]

    @property
    def fileset_sha256(self) -> str:
        """One fingerprint for the set: the same bytes under the same names give the same value."""
        digest = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.path.name.lower()):
            digest.update(f"{f.path.name.lower()}\0{f.fingerprint}\n".encode())
        return digest.hexdigest()

    def complete(self, now: float, quiet_seconds: int) -> bool:
        """No file changed within the quiet period, or the folder says it is complete."""
        if (self.folder / COMPLETE_MARKER).is_file():
            return True
        return all(now - f.modified >= quiet_seconds for f in self.files)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def entries(folder: Path) -> Iterator[Path]:
    """What a folder holds, hidden names aside, in a stable order; nothing if it is not a real
    folder (a symbolic link to one is not followed)."""
    if folder.is_symlink() or not folder.is_dir():
        return iter(())
    return iter(sorted(p for p in folder.iterdir() if not p.name.startswith(".")))


def subfolders(folder: Path, layout: str) -> Iterator[Path]:
    """The real folders in a folder; a stray file or a linked folder is named in the log."""
    for path in entries(folder):
        if path.is_symlink():
            log.warning("ignored %s: a symbolic link (links are not followed out of landing)",
                        path)
        elif path.is_dir():
            yield path
        else:
            log.warning("ignored %s: files belong in %s", path, layout)


def files_in(folder: Path) -> tuple[DeliveredFile, ...]:
    """Every entry of a delivery folder as a delivered file (a sub-folder too: it is named)."""
    return tuple(DeliveredFile.at(p) for p in entries(folder))


def check_folder(landing_dir: Path) -> None:
    """A landing folder must exist and hold a folder of at least one kind of return: anything
    else is a setting to fix (the folder above it, a typing error), never "nothing delivered"."""
    from mfc.kinds import KINDS

    expected = ", ".join(f"{k.source}/" for k in KINDS)
    if not landing_dir.is_dir():
        raise config.ConfigurationError(
            f"landing folder {landing_dir} does not exist (it should hold {expected})")
    if any((landing_dir / k.source).is_dir() for k in KINDS):
        return
    inside = sorted(p.name for p in landing_dir.iterdir() if p.is_dir())
    below = [p for p in inside if any((landing_dir / p / k.source).is_dir() for k in KINDS)]
    hint = f"; did you mean {landing_dir / below[0]}?" if below else (
        f"; it holds {', '.join(inside[:5])}" if inside else "; it is empty")
    raise config.ConfigurationError(
        f"landing folder {landing_dir} holds none of {expected} (docs/returns/){hint}")


def discover(landing_dir: Path, kinds: Iterable | None = None) -> list[Delivery]:
    """Every delivery under the landing folder, kind by kind, in a stable order."""
    from mfc.kinds import KINDS

    return [d for kind in (kinds or KINDS) for d in kind.discover(landing_dir)]


def register(conn: psycopg.Connection, delivery: Delivery, authorities: AuthorityRegister,
             archive_root: Path | None = None) -> int | None:
    """Record a delivery and archive its files (under archive_root, else the archive folder);
    None when the same files were registered before, or when a file changed while it was
    archived (it is left for the next run)."""
    from mfc.kinds import kind

    of_kind = kind(delivery.source)
    gss, period = of_kind.resolve(delivery, authorities)
    archive: Path | None = None
    try:
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
                    period.label if period else delivery.collection_year,
                    period.start if period else None, period.end if period else None,
                    delivery.fileset_sha256, str(delivery.folder),
                    max((f.modified for f in delivery.files), default=time.time()),
                ),
            ).fetchone()
            if row is None:
                return None
            submission_id = row[0]
            archive = (archive_root or config.archive_dir()) / str(submission_id)
            archive.mkdir(parents=True, exist_ok=True)
            for f in delivery.files:
                kept = _archive(f, archive)
                conn.execute(
                    """
                    insert into audit.submission_files (submission_id, file_name, table_name,
                        sha256, bytes, archived_path, problem)
                    values (%s, %s, %s, %s, %s, %s, %s)
                    """,
                    (submission_id, f.path.name, of_kind.table_of(f), f.sha256, f.bytes,
                     str(kept) if kept else None, f.problem),
                )
    except FileChanged as changed:
        if archive is not None:
            shutil.rmtree(archive, ignore_errors=True)
        log.warning("left for the next run: %s", changed)
        return None
    return submission_id


class FileChanged(Exception):
    """A delivered file changed between fingerprinting and archiving: it is still being written."""


def _archive(f: DeliveredFile, archive: Path) -> Path | None:
    """Copy a readable file into the archive and check the copy is the file fingerprinted."""
    if f.problem:
        return None
    kept = archive / f.path.name
    try:
        shutil.copyfile(f.path, kept)
        shutil.copystat(f.path, kept)
    except OSError as err:
        raise FileChanged(f"{f.path} could not be archived ({err})") from err
    if sha256_of(kept) != f.sha256:
        raise FileChanged(f"{f.path} changed while it was archived")
    return kept


def register_all(url: str, landing_dir: Path) -> list[int]:
    """Register new, complete deliveries; return every submission still waiting for its gate.

    Submissions left 'received' by an interrupted run are returned too, so they are finished.
    """
    authorities = AuthorityRegister.from_seed()
    quiet, now = config.landing_quiet_seconds(), time.time()
    with psycopg.connect(url) as conn:
        for delivery in discover(landing_dir):
            if not delivery.complete(now, quiet):
                log.warning("left for the next run: %s changed less than %d s ago (still being "
                            "written?)", delivery.folder, quiet)
                continue
            register(conn, delivery, authorities)
            faults.pause_here("registering")
    return waiting(url)


def waiting(url: str, source: str | None = None) -> list[int]:
    """Registered submissions (of one kind, if named) not yet gated, oldest first."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select submission_id from audit.submissions where status = 'received' "
            "and source = coalesce(%s, source) order by submission_id", (source,)
        ).fetchall()
    return [r[0] for r in rows]
