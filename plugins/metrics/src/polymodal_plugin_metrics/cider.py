"""CIDEr-D for captioning, implemented here because no maintained offline package provides it.

This follows the CIDEr-D scorer of the COCO caption evaluation (Vedantam et al., 2015, with the "-D"
changes), computed over the whole evaluated corpus:

* Each caption becomes TF-IDF vectors of its 1- to 4-grams. The document frequency of an n-gram is the
  number of *rows* (images) whose references contain it, counted over the references of the whole
  evaluated split, and the IDF is ``log(rows) - log(max(1, df))``.
* For each n, the similarity with one reference is the cosine of the two vectors with the candidate's
  counts clipped to the reference's (``sum min(c, r) * r``), times the Gaussian length penalty
  ``exp(-delta**2 / (2 * sigma**2))`` with ``sigma = 6``. As in COCO's code, ``delta`` is the difference
  of the two captions' bigram counts (equal to the difference in words for captions of two or more words).
* A row's score is ``10 x`` the mean over n of the similarities averaged over its references; the corpus
  CIDEr-D is the mean over rows.

COCO's scorer reports that value (a good model gets ~1.2); papers print it x100 ("CIDEr 146.4"). This
evaluator returns the paper scale: ``{"cider": 100 x CIDEr-D}``.

Because the IDF comes from the evaluated references, an n-gram that appears in every row's references
weighs nothing: a corpus of one row, or of rows with identical references, scores 0 whatever the captions.

Usage::

    from polymodal_plugin_metrics.cider import cider
    cider(["a red circle", "a blue square"], [["a red circle", "red circle"], ["a blue square"]])
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Sequence

from polymodal.errors import PlanError

from ._inputs import alternatives, as_text, check_pair

__all__ = ["cider", "cider_tokenize"]

_PUNCT = re.compile(r"[^\w\s]|_")

_NGram = tuple[str, ...]


def cider_tokenize(text: Any) -> list[str]:
    """Lower-case and split into words, with punctuation removed.

    A stand-in for the PTB tokenizer that COCO runs before CIDEr (which needs Java): punctuation marks
    become word boundaries and are dropped, as COCO drops its punctuation tokens.
    """
    return _PUNCT.sub(" ", as_text(text).lower()).split()


def _counts(words: list[str], max_n: int) -> Counter[_NGram]:
    counts: Counter[_NGram] = Counter()
    for n in range(1, max_n + 1):
        for start in range(len(words) - n + 1):
            counts[tuple(words[start:start + n])] += 1
    return counts


class _Vector:
    """TF-IDF vectors of one caption, one per n-gram order, with their norms and COCO's length."""

    __slots__ = ("weights", "norms", "length")

    def __init__(self, counts: Counter[_NGram], doc_freq: Counter[_NGram], log_rows: float,
                 max_n: int) -> None:
        self.weights: list[dict[_NGram, float]] = [{} for _ in range(max_n)]
        squares = [0.0] * max_n
        self.length = 0
        for gram, tf in counts.items():
            order = len(gram) - 1
            weight = tf * (log_rows - math.log(max(1.0, doc_freq[gram])))
            self.weights[order][gram] = weight
            squares[order] += weight * weight
            if order == 1:
                # COCO measures caption length in bigrams; kept so the length penalty matches its scores.
                self.length += tf
        self.norms = [math.sqrt(value) for value in squares]


def _similarity(cand: _Vector, ref: _Vector, sigma: float) -> list[float]:
    delta = float(cand.length - ref.length)
    penalty = math.exp(-(delta * delta) / (2.0 * sigma * sigma))
    values = []
    for order, grams in enumerate(cand.weights):
        ref_grams = ref.weights[order]
        value = 0.0
        for gram, weight in grams.items():
            ref_weight = ref_grams.get(gram, 0.0)
            # Clipping the candidate weight to the reference's stops repeated n-grams from gaming the score.
            value += min(weight, ref_weight) * ref_weight
        if cand.norms[order] != 0 and ref.norms[order] != 0:
            value /= cand.norms[order] * ref.norms[order]
        values.append(value * penalty)
    return values


def cider(predictions: Sequence[Any], references: Sequence[Any], *, sigma: float = 6.0, max_n: int = 4,
          tokenize: bool = True) -> dict[str, float]:
    """Corpus CIDEr-D, x100 (the scale papers report).

    Args:
        predictions: one caption per row (``None`` is the empty caption).
        references: per row, a reference caption or a list/tuple of reference captions.
        sigma: standard deviation of the length penalty (COCO: 6).
        max_n: longest n-gram (COCO: 4).
        tokenize: lower-case and strip punctuation with :func:`cider_tokenize`; when false the text is
            only split on whitespace (for text that is already tokenised).

    Returns:
        ``{"cider": 100 x CIDEr-D}`` (0 or more; 100 x 10 is the most a row can score).

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
        PlanError: ``sigma`` not positive or ``max_n`` below 1.
    """
    name = "cider"
    if not sigma > 0:
        raise PlanError(f"{name}: option sigma must be positive, got {sigma!r}")
    if int(max_n) != max_n or max_n < 1:
        raise PlanError(f"{name}: option max_n must be an integer >= 1, got {max_n!r}")
    max_n = int(max_n)
    preds, refs = check_pair(name, predictions, references)
    split = cider_tokenize if tokenize else (lambda text: as_text(text).split())

    cand_counts = [_counts(split(pred), max_n) for pred in preds]
    ref_counts = [[_counts(split(alt), max_n) for alt in alternatives(name, ref, row)]
                  for row, ref in enumerate(refs)]
    doc_freq: Counter[_NGram] = Counter()
    for row_refs in ref_counts:
        doc_freq.update(set().union(*row_refs))
    log_rows = math.log(float(len(preds)))

    total = 0.0
    for cand, row_refs in zip(cand_counts, ref_counts):
        vector = _Vector(cand, doc_freq, log_rows, max_n)
        summed = [0.0] * max_n
        for ref in row_refs:
            for order, value in enumerate(_similarity(vector, _Vector(ref, doc_freq, log_rows, max_n), sigma)):
                summed[order] += value
        total += 10.0 * (sum(summed) / max_n) / len(row_refs)
    return {name: 100.0 * total / len(preds)}
