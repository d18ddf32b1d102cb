"""The ``struct`` preprocessor: structure -> linearised text -> text tokens, and back."""
from __future__ import annotations

import random
from typing import Any, Mapping

from polymodal.errors import DataError
from polymodal_modality_text.preprocess import TextPreprocessor

from polymodal_modality_struct.linearize import detect_kind, linearize
from polymodal_modality_struct.parse import parse_grid, parse_table, parse_triples

__all__ = ["StructPreprocessor"]


class StructPreprocessor(TextPreprocessor):
    """Linearises the slot's structure, then tokenises it like text (same tokenizer and token space)."""

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
        return super().encode(self._linear(value), train=train, rng=rng, row=row)

    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        return super().target(self._linear(value), train=train, rng=rng, row=row)

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
