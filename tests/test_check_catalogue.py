"""The check catalogue is whole: every gate check of the three returns has a how-to-fix line,
ids are unique, and docs/returns/*.md list exactly the checks that run, as
expectations/catalogue_docs.py writes them (so the specs cannot drift from the code).

No database: the catalogue and the specs are plain Python and Markdown.
"""

from __future__ import annotations

import re
import shutil

import pytest

from expectations import aggregate, catalogue_docs, council, marts, police
from expectations.fixes import FIXES

CATALOGUES = {"council": council.ALL, "police": police.ALL, "aggregate": aggregate.ALL}
RUN = "run `.venv/bin/python -m expectations.catalogue_docs` and commit the docs it rewrites"


@pytest.mark.parametrize("name", CATALOGUES)
def test_check_ids_are_unique_in_each_catalogue(name):
    ids = [c.check_id for c in CATALOGUES[name]]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert repeated == [], f"expectations.{name}.ALL repeats check ids {repeated}"


@pytest.mark.parametrize("name", CATALOGUES)
def test_every_check_says_how_to_fix_it(name):
    missing = [c.check_id for c in CATALOGUES[name] if not FIXES.get(c.check_id, "").strip()]
    assert missing == [], (f"no how-to-fix line in expectations/fixes.py FIXES for "
                           f"{name} checks {missing}")
    # Check.fix is what the reports show.
    assert all(c.fix == FIXES[c.check_id] for c in CATALOGUES[name])


def test_every_fix_names_a_check_that_exists():
    known = {c.check_id for checks in CATALOGUES.values() for c in checks}
    known |= {c.check_id for c in marts.checks()}
    assert sorted(set(FIXES) - known) == []


@pytest.mark.parametrize("check_id", sorted(FIXES))
def test_a_fix_is_short_plain_and_more_than_the_message(check_id):
    fix = FIXES[check_id]
    assert fix == " ".join(fix.split()) and fix.endswith("."), fix
    assert len(fix) <= 300, f"{check_id}: one or two short sentences, not {len(fix)} characters"
    assert len(re.findall(r"[.!?](?:\s|$)", fix)) <= 3, fix
    # No warehouse internals: a data officer never sees these schemas or tables.
    assert not re.search(r"\b(landing|raw|audit|dq|marts|staging)\.\w", fix), fix
    messages = {c.message for checks in CATALOGUES.values() for c in checks
                if c.check_id == check_id}
    assert fix not in messages


def test_a_shared_id_is_not_claimed_by_two_catalogues():
    # FIXES is keyed by id alone: an id in two catalogues would share one fix line.
    seen: dict[str, str] = {}
    clashes = []
    for name, checks in CATALOGUES.items():
        for c in checks:
            if seen.setdefault(c.check_id, name) != name:
                clashes.append(c.check_id)
    assert clashes == []


@pytest.mark.parametrize("doc", catalogue_docs.CATALOGUES)
def test_the_spec_lists_the_checks_as_the_generator_writes_them(doc):
    text = (catalogue_docs.DOCS_DIR / doc).read_text(encoding="utf-8")
    try:
        held = catalogue_docs.generated(text, doc)
    except catalogue_docs.OutOfDate as error:
        pytest.fail(f"docs/returns/{doc}: {error}")
    if held != catalogue_docs.block(catalogue_docs.CATALOGUES[doc]):
        pytest.fail(f"docs/returns/{doc}: its list of checks is out of date with expectations/: "
                    f"{RUN}")


def _rows(block: str) -> list[tuple[str | None, ...]]:
    """(stage heading, id, file or None, severity, message, fix) for each row of a generated
    block, with the Markdown escapes undone."""
    rows, heading = [], None
    for line in block.splitlines():
        if line.startswith("### "):
            heading = line[4:]
        m = re.fullmatch(r"\| `([^`]+)` \| (?:(the delivery|`[^`]+`) \| )?(\w+) \| (.*) \| (.*) \|",
                         line)
        if m:
            unescaped = [re.sub(r"\\(.)", r"\1", cell) if cell else cell for cell in m.groups()]
            rows.append((heading, *unescaped))
    return rows


@pytest.mark.parametrize("doc", catalogue_docs.CATALOGUES)
def test_the_generated_list_holds_each_check_once_under_its_stage(doc):
    checks = catalogue_docs.CATALOGUES[doc]
    rows = _rows(catalogue_docs.block(checks))
    assert sorted(r[1] for r in rows) == sorted(c.check_id for c in checks)
    by_id = {c.check_id: c for c in checks}
    several_files = len({c.table for c in checks if c.table}) > 1
    for heading, check_id, file, severity, message, fix in rows:
        check = by_id[check_id]
        assert heading == catalogue_docs.STAGES[check.stage]
        # The file each check reads, where the return has several (the council's three).
        if several_files:
            assert file == (f"`{check.table}.csv`" if check.table else "the delivery")
        else:
            assert file is None
        expected_fix = FIXES.get(check_id) or "(not written yet)"  # the test above fails
        assert (severity, message, fix) == (check.severity, check.message, expected_fix)
    # Stages in the order they run, each once; checks within a stage in catalogue order.
    headings = list(dict.fromkeys(r[0] for r in rows))
    assert headings == [t for s, t in catalogue_docs.STAGES.items()
                        if any(c.stage == s for c in checks)]
    order = [c.check_id for c in checks]
    for heading in headings:
        ids = [r[1] for r in rows if r[0] == heading]
        assert ids == sorted(ids, key=order.index)


def test_a_cell_keeps_markdown_from_eating_the_text():
    # police.submission.force's message names landing/police/<force>/<YYYY-MM>.csv: an HTML
    # tag to a Markdown renderer unless escaped.
    assert catalogue_docs._cell("a <force> | b\n  c *") == "a \\<force> \\| b c \\*"
    assert catalogue_docs._cell("<5 children") == "<5 children"


def test_the_generator_rewrites_only_between_the_markers(tmp_path):
    for doc in catalogue_docs.CATALOGUES:
        shutil.copy(catalogue_docs.DOCS_DIR / doc, tmp_path / doc)
    stale = tmp_path / "police.md"
    text = stale.read_text(encoding="utf-8")
    begin, end = text.index(catalogue_docs.BEGIN), text.index(catalogue_docs.END)
    stale.write_text(text[:begin] + catalogue_docs.BEGIN + "\n| `police.gone` | x | y | z |\n"
                     + text[end:], encoding="utf-8")

    assert catalogue_docs.main(["--docs", str(tmp_path), "--check"]) == 1
    assert stale.read_text(encoding="utf-8") != text  # --check changes nothing
    assert catalogue_docs.main(["--docs", str(tmp_path)]) == 0
    rewritten = stale.read_text(encoding="utf-8")
    assert rewritten[:begin] == text[:begin]
    assert rewritten.endswith(text[end + len(catalogue_docs.END):])
    assert "police.gone" not in rewritten
    assert catalogue_docs.main(["--docs", str(tmp_path), "--check"]) == 0
    assert catalogue_docs.main(["--docs", str(tmp_path)]) == 0
    assert stale.read_text(encoding="utf-8") == rewritten  # a second run changes nothing


def test_a_spec_without_its_markers_is_an_error(tmp_path, capsys):
    for doc in catalogue_docs.CATALOGUES:
        (tmp_path / doc).write_text("# A spec\n\nNo list here.\n", encoding="utf-8")
    assert catalogue_docs.main(["--docs", str(tmp_path)]) == 2
    assert "must hold the marker" in capsys.readouterr().err


@pytest.mark.parametrize("doc", catalogue_docs.CATALOGUES)
def test_the_how_to_fix_lines_in_worked_examples_are_the_catalogues(doc):
    # Example output of `mfc check` quotes a fix line under its check: it must be today's.
    text = (catalogue_docs.DOCS_DIR / doc).read_text(encoding="utf-8")
    quoted = re.findall(r"^(?:FAIL|WARNING) (\S+?),? .*\n\s+How to fix: (.+)$", text, re.M)
    if doc == "council.md":  # its section on checking before you submit shows one
        assert [check_id for check_id, _ in quoted] == ["1005"]
    for check_id, fix in quoted:
        assert fix == FIXES[check_id], f"docs/returns/{doc}: the example's fix for {check_id}"
