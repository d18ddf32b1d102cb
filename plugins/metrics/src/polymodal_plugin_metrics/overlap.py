"""N-gram overlap evaluators for generated text: ROUGE (rouge-score) and BLEU-4 (sacreBLEU).

Both are the maintained reference implementations, so numbers are comparable with published ones:

* ``rouge``: ROUGE-1, ROUGE-2 and ROUGE-L F-measure with the Porter stemmer, averaged over rows (the
  corpus score is the mean of per-row F, as in the Gigaword literature). With several references a row
  keeps, for each ROUGE type separately, the reference with the highest F. rouge-score's tokenizer
  lower-cases and keeps only ``[a-z0-9]`` runs, so text in other scripts scores 0.
* ``bleu``: ``sacrebleu.corpus_bleu`` (BLEU-4 from corpus n-gram statistics, not a mean of sentence
  BLEU), ``13a`` tokenisation and exponential smoothing by default. Rows may have different numbers of
  references; missing ones are padded with ``None``, which sacreBLEU ignores.

Usage::

    from polymodal_plugin_metrics.overlap import bleu, rouge
    rouge(["the cat sat"], [["a cat sat down", "the cat is sitting"]])
    bleu(["the cat sat on the mat"], ["the cat sat on the mat"])          # {"bleu": 100.0}
"""
from __future__ import annotations

from typing import Any, Sequence

from ._inputs import alternatives, as_text, check_choice, check_pair

__all__ = ["rouge", "bleu", "ROUGE_TYPES"]

#: The ROUGE types reported by :func:`rouge` (and the keys of its result).
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")

_SMOOTHING = ("exp", "floor", "add-k", "none")


def rouge(predictions: Sequence[Any], references: Sequence[Any], *, use_stemmer: bool = True
          ) -> dict[str, float]:
    """ROUGE-1/2/L F-measure x100, the mean over rows of each row's best reference.

    Args:
        predictions: one text per row (``None`` is the empty text).
        references: per row, the reference text or a list/tuple of acceptable texts.
        use_stemmer: apply the Porter stemmer (on by default, as in the literature).

    Returns:
        ``{"rouge1", "rouge2", "rougeL"}`` in [0, 100].

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
    """
    from rouge_score.rouge_scorer import RougeScorer

    name = "rouge"
    preds, refs = check_pair(name, predictions, references)
    scorer = RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        hypothesis = as_text(pred)
        best = dict.fromkeys(ROUGE_TYPES, 0.0)
        for alt in alternatives(name, ref, row):
            scores = scorer.score(as_text(alt), hypothesis)
            for key in ROUGE_TYPES:
                best[key] = max(best[key], scores[key].fmeasure)
        for key in ROUGE_TYPES:
            totals[key] += best[key]
    return {key: 100.0 * total / len(preds) for key, total in totals.items()}


def bleu(predictions: Sequence[Any], references: Sequence[Any], *, tokenize: str = "13a",
         lowercase: bool = False, smooth_method: str = "exp") -> dict[str, float]:
    """Corpus BLEU-4 with sacreBLEU, on its usual 0-100 scale.

    Args:
        predictions: one text per row (``None`` is the empty text).
        references: per row, the reference text or a list/tuple of acceptable texts (any number per row).
        tokenize: a sacreBLEU tokenizer name (``"13a"``, ``"intl"``, ``"char"``, ``"zh"``, ``"none"``, ...).
        lowercase: case-insensitive BLEU.
        smooth_method: ``"exp"`` (default), ``"floor"``, ``"add-k"`` or ``"none"``.

    Returns:
        ``{"bleu": value in [0, 100]}``.

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
        PlanError: an unknown tokenizer or smoothing method.
    """
    import sacrebleu
    from sacrebleu.metrics.bleu import BLEU

    name = "bleu"
    check_choice(name, "tokenize", tokenize, tuple(BLEU.TOKENIZERS))
    check_choice(name, "smooth_method", smooth_method, _SMOOTHING)
    preds, refs = check_pair(name, predictions, references)
    rows = [[as_text(alt) for alt in alternatives(name, ref, row)] for row, ref in enumerate(refs)]
    width = max(len(alts) for alts in rows)
    # sacreBLEU takes one stream per reference position; a row with fewer references is padded with None.
    streams: list[list[str | None]] = [
        [alts[k] if k < len(alts) else None for alts in rows] for k in range(width)]
    result = sacrebleu.corpus_bleu([as_text(pred) for pred in preds], streams, smooth_method=smooth_method,
                                   lowercase=lowercase, tokenize=tokenize)
    return {name: float(result.score)}
