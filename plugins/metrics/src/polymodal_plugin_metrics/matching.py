"""Evaluators that compare each prediction with its references for equality.

``accuracy`` and ``exact_match`` score whole answers, ``token_accuracy`` scores whitespace tokens position
by position (text infilling), and ``vqa_accuracy`` is the soft accuracy of VQA, where several humans gave
an answer and matching three of them counts as fully correct. All return percentages (0-100).

Usage::

    from polymodal_plugin_metrics.matching import accuracy
    accuracy(["A cat", "dog"], ["a  cat", ["wolf", "hound"]])   # {"accuracy": 50.0}
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from polymodal.errors import DataError

from ._inputs import alternatives, as_text, check_pair, normalize_text, parse_float

__all__ = ["accuracy", "exact_match", "token_accuracy", "vqa_accuracy", "vqa_normalize"]


def _match_rate(name: str, predictions: Sequence[Any], references: Sequence[Any], key: str,
                canon: Any) -> dict[str, float]:
    preds, refs = check_pair(name, predictions, references)
    correct = 0
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        target = canon(pred)
        correct += any(canon(alt) == target for alt in alternatives(name, ref, row))
    return {key: 100.0 * correct / len(preds)}


def accuracy(predictions: Sequence[Any], references: Sequence[Any], *, normalize: bool = True
             ) -> dict[str, float]:
    """Percentage of predictions equal to one of their references.

    Args:
        predictions: one answer per row (text or any value; ``None`` counts as a wrong answer).
        references: per row, the reference or a list/tuple of acceptable references.
        normalize: compare as text after lower-casing, trimming and collapsing whitespace. When false,
            values are compared with ``==`` as given (so ``1`` and ``"1"`` differ).

    Returns:
        ``{"accuracy": percent}``.

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
    """
    canon = normalize_text if normalize else (lambda value: value)
    return _match_rate("accuracy", predictions, references, "accuracy", canon)


def exact_match(predictions: Sequence[Any], references: Sequence[Any]) -> dict[str, float]:
    """Percentage of predictions equal to a reference after SQuAD-style normalisation.

    Both sides are lower-cased, punctuation characters are deleted (``"U.S."`` -> ``"us"``) and whitespace
    is collapsed. Articles are kept: they can carry meaning in generated answers.

    Returns:
        ``{"exact_match": percent}``.

    Raises:
        DataError: empty input, mismatched lengths, or a row without references.
    """
    return _match_rate("exact_match", predictions, references, "exact_match",
                       lambda value: normalize_text(value, punctuation=True))


def token_accuracy(predictions: Sequence[Any], references: Sequence[Any], *, normalize: bool = True
                   ) -> dict[str, float]:
    """Position-wise accuracy of whitespace tokens, over all reference tokens of the corpus.

    Token ``j`` of the reference counts as correct when token ``j`` of the prediction equals it; missing
    prediction tokens are wrong and extra ones are ignored (the denominator is the reference length). With
    several references, a row uses the one it matches best (highest per-row rate, first on ties).

    Args:
        predictions: one text per row.
        references: per row, the reference text or a list/tuple of acceptable texts.
        normalize: lower-case both sides before splitting.

    Returns:
        ``{"token_accuracy": 100 * correct tokens / reference tokens}``.

    Raises:
        DataError: empty input, mismatched lengths, a row without references, or references without any
            token at all.
    """
    name = "token_accuracy"
    preds, refs = check_pair(name, predictions, references)
    prep = (lambda value: as_text(value).lower().split()) if normalize else (lambda v: as_text(v).split())
    correct = total = 0
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        hyp = prep(pred)
        best: tuple[float, int, int] | None = None
        for alt in alternatives(name, ref, row):
            gold = prep(alt)
            hits = sum(1 for a, b in zip(hyp, gold) if a == b)
            rate = hits / len(gold) if gold else (1.0 if not hyp else 0.0)
            if best is None or rate > best[0]:
                best = (rate, hits, len(gold))
        assert best is not None  # alternatives() never returns an empty list
        correct += best[1]
        total += best[2]
    if total == 0:
        raise DataError(f"{name}: the references contain no tokens, so token accuracy is undefined")
    return {name: 100.0 * correct / total}


# --- VQA ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = frozenset({"a", "an", "the"})
_COMMA_IN_NUMBER = re.compile(r"(?<=\d),(?=\d)")
_NON_DECIMAL_PERIOD = re.compile(r"(?<!\d)\.|\.(?!\d)")
_PUNCT_BUT_PERIOD = re.compile(r"[!\"#$%&()*+,\-/:;<=>?@\[\\\]^_`{|}~]")


def vqa_normalize(value: Any) -> str:
    """Answer normalisation in the spirit of the official VQA evaluation script (simplified).

    Lower-case; drop thousands separators (``"1,000"`` -> ``"1000"``), apostrophes (``"don't"`` ->
    ``"dont"``) and periods that are not decimal points; turn other punctuation into spaces; map number
    words zero-ten (and "none") to digits; drop the articles a/an/the; collapse whitespace. The official
    script's contraction table is not reproduced.
    """
    text = as_text(value).lower()
    text = _COMMA_IN_NUMBER.sub("", text)
    text = _NON_DECIMAL_PERIOD.sub("", text).replace("'", "")
    text = _PUNCT_BUT_PERIOD.sub(" ", text)
    words = [_NUMBER_WORDS.get(word, word) for word in text.split() if word not in _ARTICLES]
    return " ".join(words)


def _soft_from_confidences(name: str, answer: str, ref: Mapping[Any, Any], row: int, canon: Any) -> float:
    if not ref:
        raise DataError(f"{name}: the answer-confidence mapping is empty", row=row)
    best = 0.0
    for alt, conf in ref.items():
        value = parse_float(conf)
        if value is None:
            raise DataError(f"{name}: confidence {conf!r} of answer {alt!r} is not a number", row=row)
        if canon(alt) == answer:
            best = max(best, min(1.0, max(0.0, value)))
    return best


def _soft_from_humans(answer: str, humans: list[str], leave_one_out: bool) -> float:
    matches = sum(1 for human in humans if human == answer)
    if not leave_one_out:
        return min(1.0, matches / 3.0)
    # The official metric averages min(1, matches among the other annotators / 3) over the annotators, so
    # that every annotator's answer is judged against the rest.
    total = 0.0
    for human in humans:
        total += min(1.0, (matches - (human == answer)) / 3.0)
    return total / len(humans)


def vqa_accuracy(predictions: Sequence[Any], references: Sequence[Any], *, normalize: bool = True,
                 leave_one_out: bool = True) -> dict[str, float]:
    """VQA soft accuracy, as a percentage.

    The reference of a row is one of:

    * a list/tuple of two or more human answers (VQAv2 has ten): the score is ``min(1, n / 3)`` where
      ``n`` humans gave the predicted answer. With ``leave_one_out`` (the official VQAv2 rule) that value
      is averaged over the subsets that leave out one annotator, so 3 matches of 10 score 0.9 rather than 1.
    * a mapping answer -> confidence (OFASys's precomputed ``conf|!+answer`` lists): the score is the
      confidence of the predicted answer, clipped to [0, 1], or 0 when it is not listed.
    * a single answer (or a one-element list): 1 when equal, else 0 (plain accuracy).

    Args:
        predictions: one answer per row.
        references: per row, as above.
        normalize: apply :func:`vqa_normalize` to both sides; else compare the raw text.
        leave_one_out: average over leave-one-annotator-out subsets (official); false gives the plain
            ``min(1, n / 3)``.

    Returns:
        ``{"vqa_accuracy": percent}``.

    Raises:
        DataError: empty input, mismatched lengths, an empty reference list or mapping, or a confidence
            that is not a number.
    """
    name = "vqa_accuracy"
    preds, refs = check_pair(name, predictions, references)
    canon = vqa_normalize if normalize else as_text
    total = 0.0
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        answer = canon(pred)
        if isinstance(ref, Mapping):
            total += _soft_from_confidences(name, answer, ref, row, canon)
            continue
        humans = [canon(alt) for alt in alternatives(name, ref, row)]
        if len(humans) == 1:
            total += float(humans[0] == answer)
        else:
            total += _soft_from_humans(answer, humans, leave_one_out)
    return {name: 100.0 * total / len(preds)}
