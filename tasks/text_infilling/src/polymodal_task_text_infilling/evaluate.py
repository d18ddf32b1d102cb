"""Masked-word accuracy: how many of the words hidden from the model it wrote back.

The evaluation input of this task is masked by a pattern that is a function of the text alone
(``polymodal_modality_text.noise.text_rng``), so the metric recomputes which reference words were hidden and
scores only those. Predicted and reference words are aligned first (``difflib``), so one dropped or added word
does not shift every later position (a position-wise score would).
"""
from __future__ import annotations

import difflib
from typing import Any, Sequence

from polymodal_modality_text.noise import mask_flags, text_rng
from polymodal_modality_text.preprocess import normalize_text

__all__ = ["hidden_words", "masked_word_accuracy"]


def hidden_words(text: str, ratio: float) -> list[bool]:
    """One flag per whitespace word of ``text``: ``True`` where evaluation-time masking hides it."""
    text = normalize_text(text)
    return mask_flags(len(text.split()), ratio, text_rng(text))[0]


def masked_word_accuracy(predictions: Sequence[Any], references: Sequence[Any], *, ratio: float = 0.3
                         ) -> dict[str, float]:
    """Score restored texts on the hidden words.

    Args:
        predictions: restored texts.
        references: the original texts.
        ratio: the ``mask_ratio`` of the task's instruction.

    Returns:
        ``masked_word_accuracy`` (% of hidden words written back in place) and ``exact`` (% of texts restored
        exactly).
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    hit = total = exact = 0
    for pred, ref in zip(predictions, references):
        ref_words = normalize_text(str(ref)).split()
        pred_words = normalize_text(str(pred or "")).split()
        flags = hidden_words(str(ref), ratio)
        matched = [False] * len(ref_words)
        for block in difflib.SequenceMatcher(None, ref_words, pred_words, autojunk=False).get_matching_blocks():
            for i in range(block.a, block.a + block.size):
                matched[i] = True
        hit += sum(1 for m, f in zip(matched, flags) if m and f)
        total += sum(flags)
        exact += ref_words == pred_words
    n = max(1, len(references))
    return {"masked_word_accuracy": 100.0 * hit / max(1, total), "exact": 100.0 * exact / n}
