"""Table QA metric: denotation accuracy (corpus-level, 0-100).

A prediction is right when its *denotation* equals the reference's after normalisation: lower-cased,
punctuation and the articles a/an/the dropped, whitespace collapsed, and every number written canonically
(``"1,000"`` -> ``1000``, ``"7.0"`` -> ``7``, ``"07"`` -> ``7``), so ``"The 7.0."`` matches ``"7"``
but ``"17"`` does not. A reference may be a list of acceptable answers. For free-form FeTaQA answers (whole
sentences) this is a strict sentence match; BLEU and ROUGE (the generic ``bleu`` and ``rouge`` evaluators)
are the usual scores there.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from polymodal.errors import DataError

__all__ = ["normalize_answer", "denotation_accuracy"]

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+")
_ARTICLES = frozenset({"a", "an", "the"})


def _canonical_number(match: re.Match[str]) -> str:
    value = float(match.group(0).replace(",", ""))
    value = round(value, 6)
    return f" {int(value)} " if value == int(value) else f" {value:.12g} "


def normalize_answer(text: Any) -> str:
    """Normalise an answer for comparison (see the module docstring)."""
    text = str(text).casefold()
    text = _NUMBER.sub(_canonical_number, text)
    # punctuation goes, except the decimal point of a canonical number
    text = re.sub(r"(?<!\d)\.|\.(?!\d)|[^\w\s.]", " ", text)
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def denotation_accuracy(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Percentage of predictions whose normalised answer equals (one of) the reference answer(s).

    Returns:
        ``{"denotation_accuracy": %}``.

    Raises:
        DataError: predictions and references differ in number, or there are none.
    """
    if len(predictions) != len(references):
        raise DataError(f"{len(predictions)} predictions for {len(references)} references", task="table_qa")
    if not predictions:
        raise DataError("no predictions to evaluate (the split is empty)", task="table_qa")
    right = 0
    for pred, ref in zip(predictions, references):
        options = ref if isinstance(ref, (list, tuple)) else [ref]
        norm = normalize_answer(pred)
        right += any(norm == normalize_answer(o) for o in options)
    return {"denotation_accuracy": 100.0 * right / len(predictions)}
