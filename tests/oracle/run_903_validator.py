"""Run DfE's SSDA903 validation rules (the public csc-validator-be-903) over council returns.

Run with the oracle's own Python (tests/test_oracle.py builds that environment with pandas 1.5),
never the project's:

    <oracle venv>/bin/python run_903_validator.py --year 2023-24 --authority E06000002 FOLDER...

Each FOLDER holds header.csv, episodes.csv and missing.csv with the DfE column names (no other
table is given; the rules that need one skip themselves). Prints one JSON object on stdout:
the validator's version, the rule set it chose, and for each FOLDER every rule that ran, with
the rows it flagged as [table, row] (table lower-case, row the 0-based data row; the line as
delivered is row + 2) and the rules that skipped or raised; or, for a return the validator
cannot read at all (a column it does not know, a file that is not UTF-8), its error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from importlib import metadata
from pathlib import Path

FILES = ("header.csv", "episodes.csv", "missing.csv")


def collection_year(year: str) -> str:
    """The validator's collectionYear: the year the collection year ends in ('2023-24' ->
    '2024'), from which it takes 1 April 2023 to 31 March 2024 and the rule set lac2023_24."""
    start = int(year[:4])
    if len(year) != 7 or year[4] != "-" or int(year[5:]) != (start + 1) % 100:
        raise SystemExit(f"collection year must be written like 2023-24, not {year!r}")
    return str(start + 1)


def validate(folder: Path, year: str, authority: str, rules: list[str] | None) -> dict:
    """As the validator's LacValidator.validate, except that each rule gets its own deep copy
    of the tables: it hands them shallow copies, so a rule that changes a column in place
    changes what the rules after it read (365 writes the year's end into every blank DEC, and
    575 and 577 then flag an open missing period of a child still in care)."""
    import pandas as pd
    from lac_validator.datastore import create_datastore
    from lac_validator.ingress import read_from_text
    from lac_validator.rules.ruleset_utils import get_year_ruleset

    files = [{"name": name, "description": "This year",
              "file_content": (folder / name).read_bytes()} for name in FILES]
    tables, extras = read_from_text(raw_files=files)
    meta = {"collectionYear": collection_year(year), "localAuthority": authority, **extras}
    store = create_datastore(tables, meta)
    registry = get_year_ruleset(collection_year(year))
    flagged: dict[str, list[list]] = {}
    skipped, raised = [], []
    for code, rule in registry.items():
        if rules and code not in rules:
            continue
        own = {name: frame if name == "metadata" else frame.copy(deep=True)
               for name, frame in store.items()}
        try:
            result = rule.func(own)
        except Exception:  # noqa: BLE001 - the validator records these and goes on; so do we
            raised.append(code)
            continue
        if result == {}:
            skipped.append(code)  # a table it needs was not given
            continue
        rows = flagged.setdefault(code, [])
        for table, labels in result.items():
            labels = [label for label in labels if pd.notna(label)]
            # Rows are index labels of the table as read: 0-based data rows.
            rows.extend([table.lower(), int(label)] for label in set(labels))
    return {"rules": {code: sorted(rows) for code, rows in sorted(flagged.items())},
            "skipped": sorted(skipped), "raised": sorted(raised)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--year", required=True, help="collection year, e.g. 2023-24")
    parser.add_argument("--authority", default="E06000002",
                        help="GSS code of the returning authority (placements in or out)")
    parser.add_argument("--rule", action="append", dest="rules",
                        help="run only this rule (repeatable); default all of the year's")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the validator logs every rule at INFO
    from lac_validator.types import UploadError

    # The validator prints as it goes; stdout carries only the JSON.
    results = {}
    with contextlib.redirect_stdout(sys.stderr):
        for folder in args.folders:
            try:
                results[str(folder)] = validate(folder, args.year, args.authority, args.rules)
            # A return the validator cannot read at all: a column it does not know, a file that
            # is not UTF-8, is empty or is missing.
            except (UploadError, ValueError, OSError) as error:
                results[str(folder)] = {"error": str(error)}
    end = int(collection_year(args.year))
    json.dump({"validator": metadata.version("csc-validator-be-903"),
               "pandas": metadata.version("pandas"), "year": args.year,
               "ruleset": f"lac{end - 1}_{end % 100:02d}", "returns": results},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
