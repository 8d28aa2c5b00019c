"""The kinds of return the warehouse accepts, one module each (a mfc.pipeline.ReturnKind):
where its deliveries sit, what they are, its checks and how it is promoted. Discovery, the
nightly run, the DAG and the reports iterate over KINDS; a new kind is a module, its suite
(expectations/), its staging models and its spec (docs/returns/), and a line here."""

from __future__ import annotations

from mfc.kinds.aggregate import AGGREGATE
from mfc.kinds.council import COUNCIL
from mfc.kinds.police import POLICE
from mfc.pipeline import ReturnKind

KINDS: tuple[ReturnKind, ...] = (COUNCIL, POLICE, AGGREGATE)


def kind(source: str) -> ReturnKind:
    """The kind whose submissions have this audit.submissions.source."""
    for each in KINDS:
        if each.source == source:
            return each
    raise LookupError(f"no return kind {source!r}; known: {', '.join(k.source for k in KINDS)}")
