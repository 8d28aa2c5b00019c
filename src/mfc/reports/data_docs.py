"""Great Expectations Data Docs of the gate's expectation suites, in reports/data-docs/.

The gate builds its suites per run in an ephemeral context; here the same checks are put in a
throwaway file context only so that GX can render them as Data Docs for readers.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expectations.checks import Check


def suites() -> dict[str, tuple[Check, ...]]:
    """Each return's checks that are GX expectations (the others run in Python)."""
    from expectations import aggregate, council, police

    return {f"{name}_gate": tuple(c for c in module.ALL if c.build or c.query)
            for name, module in (("council", council), ("police", police),
                                 ("aggregate", aggregate))}


def build(out: Path) -> Path:
    """Build the Data Docs into out (replaced whole); return its index.html."""
    import great_expectations as gx

    with tempfile.TemporaryDirectory(prefix="mfc-gx-") as root:
        context = gx.get_context(mode="file", project_root_dir=root)
        context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(
            globally=False)
        for name, checks in suites().items():
            suite = gx.ExpectationSuite(name)
            for check in checks:
                suite.add_expectation(check.expectation())
            context.suites.add_or_update(suite)
        context.build_data_docs()
        site = Path(root) / "gx" / "uncommitted" / "data_docs" / "local_site"
        fresh = out.with_name(f".{out.name}.partial")
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.copytree(site, fresh)
    shutil.rmtree(out, ignore_errors=True)
    fresh.replace(out)
    return out / "index.html"
