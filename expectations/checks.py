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
    # SQL returning every failing row (line_no and the lower-case columns), reading the
    # landing rows of one submission as {batch}: GX runs it as an UnexpectedRowsExpectation
    # when there is no other build, and the gate reruns it to keep every failing row.
    query: str | None = None
    reads: tuple[str, ...] = ()  # other return tables the query reads (it cannot run without)

    def expectation(self, wrap: Callable[[str], str] | None = None) -> Any:
        """The GX expectation; wrap rewrites the query first (see per_submission)."""
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


def per_submission(query: str) -> str:
    """Wrap a check's query so that it returns, for each submission, its first 20 failing rows
    and the number that fail (failing_rows): one GX run then serves a batch of small files
    (police months, aggregate files), within the 200 rows GX hands back (batches are at most
    10 files). The query must return submission_id and line_no."""
    return (
        "select * from (select failures.*, "
        "count(*) over (partition by submission_id) as failing_rows, "
        "row_number() over (partition by submission_id order by line_no) as nth "
        f"from ({query}) failures) ranked where nth <= 20 order by submission_id, line_no"
    )


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
