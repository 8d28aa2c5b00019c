"""The shape every gate check has: a stable id, a stage, a severity and a plain-English message.

A check wraps one Great Expectations expectation. Its id travels in the expectation's meta so
results can be matched back; examples name the file, the line as delivered and the values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BLOCKING = "blocking"
WARNING = "warning"


@dataclass(frozen=True)
class Check:
    check_id: str
    table: str | None          # return table the check reads; None for the submission as a whole
    stage: str                 # file, structure, content, cross-table, cross-submission
    severity: str              # blocking stops the load; warning is reported only
    message: str               # what is wrong, as a data team says it (DfE wording for rules)
    columns: tuple[str, ...] = ()  # delivered column names the examples show, in this order
    # Builds the GX expectation; deferred so that importing the catalogue does not import GX.
    build: Callable[[], Any] | None = None
    # SQL returning every failing row (submission_id, line_no and the lower-case columns),
    # reading the landing rows of a batch of submissions as {batch}: GX runs it, counted per
    # submission, as an UnexpectedRowsExpectation (mfc.gates.validate_content), and the gate
    # reruns it for a submission that fails, to keep its failing rows.
    query: str | None = None
    reads: tuple[str, ...] = ()  # other return tables the query reads (it cannot run without)
    # The query compares a submission's rows with other submissions' in its batch (so its
    # failing rows are found again over the batch, not the submission alone).
    compares_submissions: bool = False

    @property
    def fix(self) -> str:
        """How to fix a failure of this check (expectations.fixes), or '' if none is written."""
        from expectations.fixes import FIXES

        return FIXES.get(self.check_id, "")

    def expectation(self, wrap: Callable[[str], str] | None = None) -> Any:
        """The GX expectation; wrap rewrites the query first (see gates.validate_content)."""
        query = wrap(self.query) if wrap and self.query else self.query
        build = self.build or (unexpected_rows(query) if query else None)
        if build is None:
            raise ValueError(f"check {self.check_id} is not a GX check")
        expectation = build()
        expectation.meta = {"check_id": self.check_id}
        return expectation


# Builders of GX expectations, deferred (GX takes seconds to import; DAG parsing must not pay).

def unexpected_rows(query: str) -> Callable[[], Any]:
    """Rows the SQL query returns are the failures; it reads the batch as {batch}."""
    def build():
        import great_expectations.expectations as gxe

        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query)

    return build


def not_blank(column: str) -> Callable[[], Any]:
    def build():
        import great_expectations.expectations as gxe

        return gxe.ExpectColumnValuesToNotBeNull(column=column)

    return build


def in_set(column: str, values: list[str]) -> Callable[[], Any]:
    def build():
        import great_expectations.expectations as gxe

        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values)

    return build


def at_least(column: str, minimum: int) -> Callable[[], Any]:
    def build():
        import great_expectations.expectations as gxe

        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=minimum)

    return build


def columns_present(columns: tuple[str, ...]) -> Callable[[], Any]:
    """Every named column is there (others may be too); landing columns are lower case."""
    def build():
        import great_expectations.expectations as gxe

        return gxe.ExpectTableColumnsToMatchSet(
            column_set=[c.lower() for c in columns], exact_match=False
        )

    return build
