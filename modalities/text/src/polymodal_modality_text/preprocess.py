"""The ``text`` preprocessor and its postprocessor."""
from __future__ import annotations

import random
import string
import unicodedata
from typing import Any, Mapping

from polymodal.errors import DataError
from polymodal.preprocessing import BuildContext, Preprocessor
from polymodal.vocab import MASK

from polymodal_modality_text.noise import replace_noise, span_mask, text_rng

__all__ = ["TextPreprocessor", "normalize_text"]

_PUNCT = str.maketrans("", "", string.punctuation)
MASK_TEXT = "<mask>"


def normalize_text(text: str, *, uncased: bool = False, no_punctuation: bool = False) -> str:
    """NFC-normalise, collapse white space, optionally lower-case and strip ASCII punctuation."""
    text = unicodedata.normalize("NFC", text)
    if uncased:
        text = text.lower()
    if no_punctuation:
        text = text.translate(_PUNCT)
    return " ".join(text.split())


class TextPreprocessor(Preprocessor):
    """Tokenise a string (or a list of local token ids) into the ``text`` space."""

    def __init__(self, slot: Any, ctx: BuildContext) -> None:
        super().__init__(slot, ctx)
        self.tokenizer = ctx.resource("text.tokenizer")
        space = ctx.layout.space("text")
        self.offset, self.size = space.offset, space.size

    def normalized(self, value: Any) -> str:
        """The text this slot reads from ``value``, normalised as its attributes say (may be empty)."""
        if self.slot.is_prompt:
            value = self.slot.prompt
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise DataError(f"expected text, got {type(value).__name__}", column=self.slot.column)
        text = normalize_text(value, uncased=bool(self.attrs.get("uncased")),
                              no_punctuation=bool(self.attrs.get("no_punctuation")))
        return text

    def _tokens(self, value: Any) -> list[int]:
        text = self.normalized(value)
        if not text:
            raise DataError("the text is empty", column=self.slot.column)
        if MASK_TEXT in text:  # a literal <mask> (inference on text with holes) is the mask token
            ids = []
            for k, part in enumerate(text.split(MASK_TEXT)):
                if k:
                    ids.append(MASK - self.offset)
                if part.strip():
                    ids.extend(self.tokenizer.encode(part.strip()))
        else:
            ids = self.tokenizer.encode(text)
        limit = self.attrs.get("max_length")
        if limit:
            ids = ids[:limit]
        return ids

    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        local = self._tokens(value)
        ratio = self.attrs.get("mask_ratio")
        if ratio and (train or self.attrs.get("eval_mask")) and MASK - self.offset not in local:
            starts = self.tokenizer.word_starts(local)
            glob = [t + self.offset for t in local]
            if not train:  # evaluation masks each text by a pattern of its own (see noise.text_rng)
                rng = text_rng(self.normalized(value))
            return {"tokens": span_mask(glob, starts, ratio, MASK, rng)}
        return {"tokens": [t + self.offset for t in local]}

    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        return [t + self.offset for t in self._tokens(value)]

    def decoder_input(self, tokens: list[int], *, train: bool, rng: random.Random) -> list[int]:
        ratio = self.attrs.get("noise_ratio")
        if train and ratio:
            return replace_noise(tokens, ratio, self.offset, self.offset + self.size, rng)
        return tokens

    def postprocess(self, tokens: list[int], row: Mapping[str, Any] | None = None) -> str:
        local = [t - self.offset for t in tokens if self.offset <= t < self.offset + self.size]
        return self.tokenizer.decode(local)
