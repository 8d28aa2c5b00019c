"""The list of checks in docs/returns/*.md, generated from the check catalogue.

Each returns spec holds its checks between two markers; everything else in it is written by
hand. Between them this writes one Markdown table per stage (file, structure, content, across
tables, across submissions): the check id, its severity, what is wrong (the check's message, DfE's
wording for a DfE rule) and how to fix it (expectations.fixes). tests/test_check_catalogue.py
fails when a spec's list differs from what this would write now.

    .venv/bin/python -m expectations.catalogue_docs            # rewrite the lists
    .venv/bin/python -m expectations.catalogue_docs --check    # exit 1 if any is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from expectations import aggregate, council, police
from expectations.checks import Check
from mfc.returns.council import TABLES as COUNCIL_TABLES

BEGIN = ("<!-- checks: begin (generated from expectations/; "
         "python -m expectations.catalogue_docs) -->")
END = "<!-- checks: end -->"
COMMAND = ".venv/bin/python -m expectations.catalogue_docs"

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "returns"

# Each spec and the catalogue it lists, in the order its gate runs them.
CATALOGUES: dict[str, tuple[Check, ...]] = {
    "council.md": council.ALL,
    "police.md": police.ALL,
    "aggregate.md": aggregate.ALL,
}

# The file a check reads, where a return has several (a check of no table reads the delivery).
FILES: dict[str, str] = {table.name: table.file_name for table in COUNCIL_TABLES}

# Stages in the order they run, with the heading a data team reads.
STAGES: dict[str, str] = {
    "file": "File checks: the delivery and its files",
    "structure": "Structure: the columns",
    "content": "Content: the values",
    "cross-table": "Across tables",
    "cross-submission": "Across submissions",
}


class OutOfDate(Exception):
    """A spec lacks its markers, or its generated list is not what the catalogue says."""


def _cell(text: str) -> str:
    """Text as one Markdown table cell: one line, no column breaks, nothing read as HTML
    (`<force>` would vanish) or emphasis."""
    text = " ".join(text.split())
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")
    return re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)


def _stage_title(stage: str) -> str:
    return STAGES.get(stage, stage.capitalize())


def _file(check: Check) -> str:
    if check.table is None:
        return "the delivery"
    return f"`{FILES.get(check.table, check.table)}`"


def block(checks: Sequence[Check]) -> str:
    """The generated list, markers included: one table per stage, checks in catalogue order;
    with the file each check reads when the return has more than one."""
    from expectations.fixes import FIXES

    files = len({c.table for c in checks if c.table}) > 1
    stages = [s for s in STAGES if any(c.stage == s for c in checks)]
    stages += [s for s in dict.fromkeys(c.stage for c in checks) if s not in STAGES]
    parts = [BEGIN]
    for stage in stages:
        rows = [c for c in checks if c.stage == stage]
        lines = [
            f"### {_stage_title(stage)}",
            "",
            "| Check id | " + ("File | " if files else "")
            + "Severity | What is wrong | How to fix |",
            "| --- | " + ("--- | " if files else "") + "--- | --- | --- |",
        ]
        lines += [
            f"| `{c.check_id}` | " + (f"{_file(c)} | " if files else "")
            + f"{c.severity} | {_cell(c.message)} | "
            f"{_cell(FIXES.get(c.check_id, '')) or '(not written yet)'} |"
            for c in rows
        ]
        parts.append("\n".join(lines))
    parts.append(END)
    return "\n\n".join(parts)


def _span(text: str, name: str) -> tuple[int, int]:
    start = text.find(BEGIN)
    if start < 0 or text.count(BEGIN) != 1:
        raise OutOfDate(f"{name} must hold the marker {BEGIN!r} once")
    end = text.find(END, start)
    if end < 0 or text.count(END) != 1:
        raise OutOfDate(f"{name} must hold the marker {END!r} once, after {BEGIN!r}")
    return start, end + len(END)


def generated(text: str, name: str = "the spec") -> str:
    """The generated list as the spec holds it now, markers included."""
    start, end = _span(text, name)
    return text[start:end]


def rewritten(text: str, checks: Sequence[Check], name: str = "the spec") -> str:
    """The spec with its list of checks as the catalogue says now; the rest untouched."""
    start, end = _span(text, name)
    return text[:start] + block(checks) + text[end:]


def stale(docs_dir: Path = DOCS_DIR) -> list[str]:
    """The specs whose list of checks is not what the catalogue would write now."""
    return [
        name for name, checks in CATALOGUES.items()
        if generated((docs_dir / name).read_text(encoding="utf-8"), name) != block(checks)
    ]


def write(docs_dir: Path = DOCS_DIR) -> list[str]:
    """Rewrite every spec's list of checks; returns the names of the specs that changed."""
    changed = []
    for name, checks in CATALOGUES.items():
        path = docs_dir / name
        text = path.read_text(encoding="utf-8")
        new = rewritten(text, checks, name)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(name)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m expectations.catalogue_docs",
        description="Rewrite the lists of checks in docs/returns/*.md from the catalogue.")
    parser.add_argument("--docs", type=Path, default=DOCS_DIR,
                        help="the folder holding council.md, police.md and aggregate.md")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if any list is out of date")
    args = parser.parse_args(argv)
    try:
        if args.check:
            out_of_date = stale(args.docs)
            for name in out_of_date:
                print(f"{args.docs / name}: the list of checks is out of date; run {COMMAND}")
            return 1 if out_of_date else 0
        changed = write(args.docs)
    except (OSError, OutOfDate) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name in CATALOGUES:
        print(f"{args.docs / name}: {'rewritten' if name in changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
