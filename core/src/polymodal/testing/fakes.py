"""Stand-in modalities for tests: a whitespace-word TEXT and a 4-token BOX-like SPAN (no torch needed).

The fake TEXT modality owns the slot type ``TEXT`` with the same attribute names as the real one, so core can be
tested without ``polymodal-modality-text``.
"""
from __future__ import annotations

import random
from typing import Any, Mapping

from polymodal.components import AttrSpec, ComponentSpec, EvaluatorSpec, ModalitySpec, TokenSpaceSpec
from polymodal.errors import DataError
from polymodal.preprocessing import Preprocessor, Resource

WORDS = ("the a red blue green circle square triangle is what of yes no maybe positive negative entailment "
         "neutral contradiction describe image text sentiment or and big small left right").split()


class WordVocab(Resource):
    """A fixed word list as a tokenizer (unknown words map to the last id)."""

    key = "text.tokenizer"

    def __init__(self, words: tuple[str, ...] = WORDS) -> None:
        self.words = list(words) + ["<w-unk>"]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def fit(cls, texts: Any, options: Mapping[str, Any] | None = None) -> "WordVocab":
        return cls()

    def save(self, directory: str) -> dict[str, Any]:
        return {"words": self.words[:-1]}

    @classmethod
    def load(cls, directory: str, config: Mapping[str, Any]) -> "WordVocab":
        return cls(tuple(config["words"]))

    def token_spaces(self) -> dict[str, int]:
        return {"text": len(self.words)}

    def encode(self, text: str) -> list[int]:
        return [self.index.get(w, len(self.words) - 1) for w in text.lower().replace('"', " ").split()]

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.words[i] for i in ids)


class WordPreprocessor(Preprocessor):
    def __init__(self, slot: Any, ctx: Any) -> None:
        super().__init__(slot, ctx)
        self.vocab = ctx.resource("text.tokenizer")
        self.offset = ctx.layout.space("text").offset

    def _ids(self, value: Any) -> list[int]:
        value = self.slot.prompt if self.slot.is_prompt else value
        if not isinstance(value, str) or not value.strip():
            raise DataError("expected non-empty text", column=self.slot.column)
        ids = [i + self.offset for i in self.vocab.encode(value)]
        return ids[: self.attrs["max_length"]] if self.attrs.get("max_length") else ids

    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"tokens": self._ids(value)}

    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        return self._ids(value)

    def postprocess(self, tokens: list[int], row: Mapping[str, Any] | None = None) -> str:
        return self.vocab.decode([t - self.offset for t in tokens])


class SpanPreprocessor(Preprocessor):
    """Four integers 0..9 as tokens of the ``span`` space."""

    def _ids(self, value: Any) -> list[int]:
        offset = self.ctx.layout.space("span").offset
        if not (isinstance(value, (list, tuple)) and len(value) == 4):
            raise DataError("expected 4 integers", column=self.slot.column)
        return [offset + int(v) for v in value]

    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        return {"tokens": self._ids(value)}

    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        return self._ids(value)

    def postprocess(self, tokens: list[int], row: Mapping[str, Any] | None = None) -> list[int]:
        offset = self.ctx.layout.space("span").offset
        return [t - offset for t in tokens]


TEXT = ModalitySpec(token="TEXT", doc="fake whitespace-word text", default_preprocessor="text",
                    default_adapter="text.embed", default_head="text.lm",
                    token_spaces=(TokenSpaceSpec("text", None),), resource="polymodal.testing.fakes:WordVocab")
TEXT_PRE = ComponentSpec("preprocessor", "text", "TEXT", "polymodal.testing.fakes:WordPreprocessor",
                         attributes=(AttrSpec("max_length", "int", "cap", minimum=1),
                                     AttrSpec("uncased", "flag", "lower-case"),
                                     AttrSpec("mask_ratio", "float", "mask", minimum=0, maximum=1,
                                              sides=frozenset({"encoder"}))))
TEXT_EMBED = ComponentSpec("adapter", "text.embed", None, "polymodal.testing.fakes:WordPreprocessor",
                           sides=frozenset({"encoder"}), options={"space": "text"})
TEXT_HEAD = ComponentSpec("head", "text.lm", "TEXT", "polymodal.testing.fakes:WordPreprocessor",
                          sides=frozenset({"decoder"}), options={"space": "text"})
SPAN = ModalitySpec(token="SPAN", doc="fake 4-token span", default_preprocessor="span",
                    default_adapter="text.embed", default_head="span.head",
                    token_spaces=(TokenSpaceSpec("span", 10),))
SPAN_PRE = ComponentSpec("preprocessor", "span", "SPAN", "polymodal.testing.fakes:SpanPreprocessor")
SPAN_HEAD = ComponentSpec("head", "span.head", "SPAN", "polymodal.testing.fakes:SpanPreprocessor",
                          sides=frozenset({"decoder"}), options={"space": "span", "length": 4})

ALL = (TEXT, TEXT_PRE, TEXT_EMBED, TEXT_HEAD, SPAN, SPAN_PRE, SPAN_HEAD)


def exact(predictions: list, references: list) -> dict[str, float]:
    """Exact match in percent (a tiny evaluator for core's own tests)."""
    from polymodal.errors import DataError

    if not predictions or len(predictions) != len(references):
        raise DataError(f"{len(predictions)} predictions for {len(references)} references")
    return {"exact": 100.0 * sum(p == r for p, r in zip(predictions, references)) / len(predictions)}


EXACT = EvaluatorSpec("fake.exact", "polymodal.testing.fakes:exact", "exact match", primary="exact")
ALL = ALL + (EXACT,)
