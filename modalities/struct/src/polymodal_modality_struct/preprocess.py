"""The ``struct`` preprocessor: structure -> linearised text -> text tokens, and back."""
from __future__ import annotations

import random
from typing import Any, Mapping

from polymodal.errors import DataError
from polymodal_modality_text.preprocess import TextPreprocessor

from polymodal_modality_struct.linearize import _GRID_CHARS, _is_grid, as_grid, detect_kind, linearize, linearize_grid
from polymodal_modality_struct.parse import parse_grid, parse_table, parse_triples

__all__ = ["StructPreprocessor"]


class StructPreprocessor(TextPreprocessor):
    """Linearises the slot's structure, then tokenises it like text (same tokenizer and token space)."""

    #: The last kept grid's linear text and tokens: :meth:`template` and :meth:`template_cells` of one row
    #: tokenise it once.
    _kept: tuple[str, list[int]] | None = None

    def _linear(self, value: Any) -> str:
        if isinstance(value, str):  # already linearised (or a database path for kind=database)
            if self.attrs.get("kind") != "database":
                return value
        kind = self.attrs.get("kind") or detect_kind(value)
        options: dict[str, Any] = {}
        if kind == "database" and self.slot.side == "encoder":
            options["values"] = self.attrs.get("values", "auto")
        try:
            return linearize(value, kind=kind, uncased=bool(self.attrs.get("uncased")), **options)
        except DataError as exc:
            raise exc.located(column=self.slot.column) from None

    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        out = super().encode(self._linear(value), train=train, rng=rng, row=row)
        if self.attrs.get("kind") == "grid" or _is_grid(value):
            cells = self._grid_cells([t - self.offset for t in out["tokens"]])
            if cells is not None:
                out["cells"] = cells
        return out

    def _grid_cells(self, local: list[int]) -> list[tuple[int, int, int]] | None:
        """Row, column and 3x3 box (1-based) of each cell's token of a linearised 9x9 grid, ``(0, 0, 0)`` for the
        row separators; None when the tokens are not one per cell (a tokenizer that joins digits)."""
        cells, k = [], 0
        for t in local:
            word = self.tokenizer.decode([t]).strip()
            if len(word) == 1 and word in _GRID_CHARS and k < 81:
                r, c = divmod(k, 9)
                cells.append((r + 1, c + 1, 3 * (r // 3) + c // 3 + 1))
                k += 1
            else:
                cells.append((0, 0, 0))
        return cells if k == 81 else None

    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        if self.attrs.get("keeps"):
            return super().target(linearize_grid(self._grid(value, self.slot.column)), train=train, rng=rng, row=row)
        return super().target(self._linear(value), train=train, rng=rng, row=row)

    def template(self, row: Mapping[str, Any]) -> list[int | tuple[int, ...]]:
        """A grid that keeps the given cells of column ``keeps`` (a Sudoku solution keeps its puzzle's clues):
        the kept grid's tokens, where each blank (0) cell's token is replaced by the tokens of the digits 1-9
        that may fill it. Decoding then forces the clues and predicts only the blanks."""
        column = self.attrs["keeps"]
        if column not in row:
            raise DataError(f"missing column '{column}', which this slot keeps", column=column)
        grid = self._grid(row[column], column)
        given = self._kept_tokens(grid)
        fills = [self._tokens(linearize_grid([[v or d for v in r] for r in grid])) for d in range(1, 10)]
        if any(len(f) != len(given) for f in fills):
            raise DataError(f"the tokenizer splits column '{column}' differently once its blanks are filled in, so "
                            "its cells cannot be kept token by token", column=self.slot.column)
        out: list[int | tuple[int, ...]] = []
        for i, tok in enumerate(given):
            alts = tuple(f[i] + self.offset for f in fills)
            out.append(tok + self.offset if all(a == tok + self.offset for a in alts) else alts)
        blanks = sum(isinstance(e, tuple) for e in out)
        if blanks != sum(v == 0 for r in grid for v in r):
            raise DataError(f"the tokenizer joins cells of column '{column}' into one token, so its blanks cannot "
                            "be filled token by token", column=self.slot.column)
        return out

    def template_cells(self, row: Mapping[str, Any]) -> list[tuple[int, int, int]] | None:
        """The row, column and box of each token of :meth:`template` (the decoder is told which cell it fills)."""
        grid = self._grid(row[self.attrs["keeps"]], self.attrs["keeps"])
        return self._grid_cells(self._kept_tokens(grid))

    def _kept_tokens(self, grid: list[list[int]]) -> list[int]:
        text = linearize_grid(grid)
        if self._kept is None or self._kept[0] != text:
            self._kept = (text, self._tokens(text))
        return self._kept[1]

    def _grid(self, value: Any, column: str) -> list[list[int]]:
        if self.attrs.get("kind") not in (None, "grid"):
            raise DataError(f"keeps= needs grids, and this slot holds kind={self.attrs['kind']}",
                            column=self.slot.column)
        try:
            return as_grid(value)
        except DataError as exc:
            raise exc.located(column=column) from None

    def postprocess(self, tokens: list[int], row: Mapping[str, Any] | None = None) -> Any:
        """The generated structure when it parses (grid, table or triples), else the generated text."""
        text = super().postprocess(tokens, row)
        kind = self.attrs.get("kind")
        try:
            if kind == "grid":
                return parse_grid(text, strict=False)
            if kind == "table":
                return parse_table(text)
            if kind == "triples":
                return parse_triples(text)
        except DataError:
            return text
        return text
