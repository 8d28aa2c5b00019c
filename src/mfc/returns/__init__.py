"""Specifications of the returns the warehouse accepts (see docs/returns/)."""
