"""A table of a return, whatever its kind: its file, its columns, where it lands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str             # header / episodes / missing; incidents; values
    file_name: str        # as delivered
    columns: tuple[str, ...]  # column names as the spec writes them, all required
    landing_schema_table: str | None = None  # default landing.council_<name>
    optional: tuple[str, ...] = ()  # columns read when delivered, not required

    @property
    def landing_table(self) -> str:
        return self.landing_schema_table or f"landing.council_{self.name}"

    def reads(self, column: str) -> bool:
        """Whether the gate lands this delivered column (others are kept in the file only)."""
        return column in self.columns or column in self.optional


def normalise_column(name: str) -> str:
    """Column names as delivered -> the spec's names: BOM, spaces and case do not matter."""
    return name.replace("\ufeff", "").strip().upper()
