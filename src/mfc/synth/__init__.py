"""Synthetic England and Wales: looked-after children who go missing, and what each source records.

The truth is known, so every claim the warehouse makes (distinct children, merged incidents,
defects caught) can be measured. docs/synthetic-data.md documents each parameter and its source.
"""
