"""polymodal's STRUCT modality: tables, triple sets, databases and Sudoku grids written as text.

Public API (pure Python, no torch):

* ``linearize.linearize`` (any kind) and the per-kind ``linearize_table``, ``linearize_triples``,
  ``linearize_database``, ``linearize_grid`` (``linearize.py``);
* :func:`parse_table`, :func:`parse_triples`, :func:`parse_grid` and :class:`StructParseError`
  (``parse.py``), the inverses for the reversible formats.

The dispatcher ``linearize`` is deliberately not re-exported here: it would shadow the ``linearize``
submodule on the package. Import it as ``from polymodal_modality_struct.linearize import linearize``.
"""
from __future__ import annotations

from .linearize import (KINDS, as_grid, detect_kind, format_cell, linearize_database,
                        linearize_grid, linearize_table, linearize_triples, quote_identifier,
                        schema_from_sqlite)
from .parse import StructParseError, parse_grid, parse_table, parse_triples

__all__ = [
    "KINDS", "as_grid", "detect_kind", "format_cell", "linearize_database", "linearize_grid",
    "linearize_table", "linearize_triples", "quote_identifier", "schema_from_sqlite", "StructParseError",
    "parse_grid", "parse_table", "parse_triples",
]
