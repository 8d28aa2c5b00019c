"""Whatever a delivery holds, it never stops anyone else's: each bad delivery is registered and
quarantined with a clear reason beside good ones, links are never followed, a file still being
written waits for the next run, and a flood of bad rows keeps a bounded sample.

Real PostgreSQL, real GX; each test its own database.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import psycopg
import pytest
from helpers import (
    CLEVELAND,
    deliver,
    deliver_police,
    gate_waiting,
    good_tables,
    query,
    results_of,
    to_csv,
)

from mfc import config, gates, landing
from mfc.geography import AuthorityRegister
from mfc.returns.council import MISSING

GOOD_POLICE = [[CLEVELAND, "C-2024-001", "PER-1", "14/05/2009", "", "F", "03/03/2024 22:15",
                "04/03/2024 07:40", "MEDIUM", "Y", "E06000065", "TS1", "TS3"]]


def _status(url: str) -> dict[str, str]:
    return dict(query(url, "select source || ' ' || authority_as_delivered || ' ' || "
                      "collection_year, status from audit.submissions"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, server_url):
    """One landing folder: good returns beside every kind of bad delivery, gated once."""
    from helpers import create_database, drop_database

    from mfc import warehouse

    root = tmp_path_factory.mktemp("hostile")
    landing_dir = root / "landing"
    good = good_tables()
    missing = to_csv(good["missing"], MISSING.columns)
    deliver(landing_dir, authority="806")                                     # good
    deliver(landing_dir, authority="805", files={"missing.csv": gzip.compress(missing)})
    deliver(landing_dir, authority="807", files={"missing.csv": b"PK\x03\x04" + os.urandom(64)})
    deliver(landing_dir, authority="808", files={"missing.csv": missing.replace(b"\n", b"\r")})
    deliver(landing_dir, authority="840", files={"missing.csv": None})
    (landing_dir / "council" / "840" / "2023-24" / "missing.csv").symlink_to("/etc/passwd")
    deliver(landing_dir, authority="841", files={"missing.csv": b"foo,bar\n1,2\n"})
    deliver(landing_dir, authority="392", files={"missing.csv": None})
    os.mkfifo(landing_dir / "council" / "392" / "2023-24" / "missing.csv")  # never opened
    flood = [dict(good["missing"][0], MISSING="X", MIS_START=f"{1 + i % 28:02d}/05/2023",
                  MIS_END=f"{1 + i % 28:02d}/05/2023") for i in range(1500)]
    deliver(landing_dir, {**good, "missing": flood}, authority="390")
    outside = root / "elsewhere" / "2023-24"
    deliver(root / "elsewhere-landing", authority="391")
    (root / "elsewhere-landing" / "council" / "391").rename(outside.parent)
    (landing_dir / "council" / "391").symlink_to(outside.parent)             # a linked folder
    deliver_police(root, "2024-03", GOOD_POLICE)                             # good
    (landing_dir / "police" / CLEVELAND / "2024-04.csv").write_bytes(os.urandom(2048))

    url = create_database(server_url)
    previous = os.environ.get("MFC_ARCHIVE_DIR")
    os.environ["MFC_ARCHIVE_DIR"] = str(root / "archive")
    try:
        warehouse.ensure_schema(url)
        landing.register_all(url, landing_dir)
        gate_waiting(url, "police")
        gate_waiting(url, "council")
        yield url, root
    finally:
        if previous is None:
            os.environ.pop("MFC_ARCHIVE_DIR", None)
        else:
            os.environ["MFC_ARCHIVE_DIR"] = previous
        drop_database(server_url, url)


def _result(url: str, authority: str, check_id: str) -> dict:
    [(sid,)] = query(url, "select submission_id from audit.submissions "
                          "where authority_as_delivered = %s", authority)
    return results_of(url, sid)[check_id]


def test_every_delivery_is_decided_and_the_good_ones_load(hostile):
    url, _ = hostile
    assert _status(url) == {
        "council 806 2023-24": "loaded",
        "council 805 2023-24": "quarantined",      # gzip named missing.csv
        "council 807 2023-24": "quarantined",      # a zip (workbook) named missing.csv
        "council 808 2023-24": "loaded",           # classic Mac line endings are read
        "council 840 2023-24": "quarantined",      # missing.csv links to a system file
        "council 841 2023-24": "quarantined",      # no expected column on line 1
        "council 392 2023-24": "quarantined",      # a named pipe, not a file
        "council 390 2023-24": "quarantined",      # 1,500 bad rows
        f"police {CLEVELAND} 2024-03": "loaded",
        f"police {CLEVELAND} 2024-04": "quarantined",  # random bytes
    }
    # The linked folder outside landing (391) was not registered, nor read.
    assert query(url, "select count(*) from raw.council_missing m join audit.submissions "
                      "using (submission_id) where status = 'loaded'") == [(6,)]


def test_each_bad_file_is_named_with_its_reason(hostile):
    url, _ = hostile
    assert "missing.csv is a gzip-compressed file, not CSV" in _result(
        url, "805", "mfc.file.format")["message"]
    assert "missing.csv is an Excel workbook (.xlsx), not CSV" in _result(
        url, "807", "mfc.file.format")["message"]
    assert ("missing.csv is a symbolic link: links are not followed; deliver the file itself"
            in _result(url, "840", "mfc.file.readable")["message"])
    assert ("missing.csv is not a regular file (a folder, pipe or device)"
            in _result(url, "392", "mfc.file.readable")["message"])
    columns = _result(url, "841", "mfc.missing.columns")
    assert columns["result"] == "FAIL"
    assert columns["message"].startswith(
        "missing.csv lacks the column(s) CHILD, DOB, MISSING, MIS_START, MIS_END;")
    [(sid,)] = query(url, "select submission_id from audit.submissions "
                          "where collection_year = '2024-04'")
    police = results_of(url, sid)
    assert police["police.file.readable"]["result"] == "FAIL"


def test_a_link_is_registered_but_never_read_or_archived(hostile):
    url, root = hostile
    [(sid, sha, kept, problem)] = query(
        url, "select submission_id, sha256, archived_path, problem from audit.submission_files "
             "where problem like '%%symbolic link%%'")
    assert (sha, kept) == (None, None)
    assert problem.startswith("missing.csv is a symbolic link")
    archived = {p.name for p in (root / "archive" / str(sid)).iterdir()}
    assert archived == {"header.csv", "episodes.csv"}
    dump = "".join(p.read_text(errors="replace") for p in (root / "archive").rglob("*")
                   if p.is_file())
    assert "root:x:0:0" not in dump


def test_a_flood_of_bad_rows_keeps_its_count_and_a_bounded_sample(hostile):
    url, _ = hostile
    flooded = _result(url, "390", "1006")
    assert (flooded["result"], flooded["count"]) == ("FAIL", 1500)
    assert len(flooded["examples"]) == gates.MAX_EXAMPLES
    assert flooded["examples"][0] == {"file": "missing.csv", "line": 2, "values": {"MISSING": "X"}}
    assert query(url, "select count(*), min(line_no), max(line_no) from dq.failing_rows "
                      "where check_id = '1006'") == [(gates.MAX_FAILING_ROWS, 2,
                                                      gates.MAX_FAILING_ROWS + 1)]


def test_a_delivery_still_being_written_waits_for_the_next_run(warehouse_url, tmp_path,
                                                               monkeypatch):
    monkeypatch.delenv("MFC_LANDING_QUIET_SECONDS")
    assert config.landing_quiet_seconds() == 60
    deliver(tmp_path, authority="806")
    folder = tmp_path / "council" / "806" / "2023-24"
    os.utime(folder / "missing.csv")  # written just now: the upload may not be over
    assert landing.register_all(warehouse_url, tmp_path) == []
    assert query(warehouse_url, "select count(*) from audit.submissions") == [(0,)]
    (folder / ".complete").touch()  # the sender says it is done
    assert len(landing.register_all(warehouse_url, tmp_path)) == 1


def test_a_file_changing_while_archived_is_left_whole_for_the_next_run(warehouse_url, tmp_path):
    deliver(tmp_path, authority="806")
    [delivery] = landing.discover(tmp_path)
    with (tmp_path / "council" / "806" / "2023-24" / "missing.csv").open("ab") as still_going:
        still_going.write(b"T003,29/02/2012,M,01/06/2023,02/06/2023\n")
    with psycopg.connect(warehouse_url) as conn:
        assert landing.register(conn, delivery, AuthorityRegister.from_seed()) is None
    assert query(warehouse_url, "select count(*) from audit.submissions") == [(0,)]
    assert not any(Path(config.archive_dir()).glob("*"))  # no orphan archive folder
    assert len(landing.register_all(warehouse_url, tmp_path)) == 1  # next run: taken whole
