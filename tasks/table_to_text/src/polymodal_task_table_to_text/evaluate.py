"""Table-to-text metrics: corpus BLEU-4 and slot recall / hallucination rate (0-100).

References are the task's ``gold`` column, ``{"triples": [[s, p, o], ...], "texts": [reference, ...]}``.
BLEU also accepts a plain reference string or a list of strings; the slot metrics need the triples.

* ``bleu``: sacreBLEU corpus BLEU-4 (13a tokenizer, exponential smoothing, as DART reports it) against all
  references of each example, computed by the generic ``bleu`` evaluator on the ``texts``.
* ``slot_recall``: the share of slot values (every distinct subject and object of the triple set, except
  DART's bracketed placeholders such as ``[TABLECONTEXT]``) that occur in the output as a whole-word phrase,
  case- and punctuation-insensitively, micro-averaged over the corpus.
* ``hallucination``: the share of outputs containing at least one *unsupported* word: a word that is in
  neither the triple set nor any reference, and is not a common function word. It flags invented names,
  numbers and facts. It is a lexical proxy: a valid paraphrase with new words also counts, so compare it
  between systems on the same data rather than read it as an absolute rate.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from polymodal.errors import DataError

__all__ = ["bleu", "slot_recall", "FUNCTION_WORDS"]

#: Words that never count as unsupported.
FUNCTION_WORDS = frozenset("""
a an the and or but of in on at to for from by with as is are was were be been being has have had it its
this that these those which who whom whose where when there their they he she his her him them also not
no than then so such s
""".split())


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w]+", " ", str(text).casefold()).split()


def _texts(ref: Any) -> list[str]:
    if isinstance(ref, dict):
        return [str(t) for t in ref.get("texts", [])]
    if isinstance(ref, str):
        return [ref]
    return [str(t) for t in ref]


def _check(predictions: Sequence[Any], references: Sequence[Any]) -> None:
    if len(predictions) != len(references):
        raise DataError(f"{len(predictions)} predictions for {len(references)} references", task="table_to_text")
    if not predictions:
        raise DataError("no predictions to evaluate (the split is empty)", task="table_to_text")


def bleu(predictions: Sequence[str], references: Sequence[Any], *, lowercase: bool = False) -> dict[str, float]:
    """Corpus BLEU-4: the generic ``bleu`` evaluator of ``polymodal-plugin-metrics`` on the reference texts.

    Args:
        predictions: generated texts.
        references: ``gold`` dicts, reference strings or lists of reference strings.
        lowercase: compare case-insensitively.

    Returns:
        ``{"bleu": score}`` (0-100).
    """
    from polymodal_plugin_metrics.overlap import bleu as generic_bleu

    _check(predictions, references)
    return generic_bleu(predictions, [_texts(r) for r in references], lowercase=lowercase)


def _slots(triples: Sequence[Sequence[str]]) -> list[list[str]]:
    values: list[list[str]] = []
    for triple in triples:
        for value in (triple[0], triple[2]):
            words = _words(value)
            if words and words not in values and not re.fullmatch(r"\[.*\]", value.strip()):
                values.append(words)
    return values


def _contains(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[i:i + n] == phrase for i in range(len(words) - n + 1))


def slot_recall(predictions: Sequence[str], references: Sequence[Any]) -> dict[str, float]:
    """Slot recall and hallucination rate (see the module docstring).

    Returns:
        ``{"slot_recall": %, "hallucination": % of outputs with an unsupported word,
        "unsupported_words": % of output words that are unsupported}``.

    Raises:
        DataError: a reference without ``triples``.
    """
    _check(predictions, references)
    found = total = flagged = unsupported = n_words = 0
    for i, (pred, ref) in enumerate(zip(predictions, references)):
        if not isinstance(ref, dict) or "triples" not in ref:
            raise DataError("slot metrics need references of the form {'triples': ..., 'texts': ...}",
                            task="table_to_text", row=i)
        words = _words(pred)
        slots = _slots(ref["triples"])
        found += sum(_contains(words, s) for s in slots)
        total += len(slots)
        known = set(FUNCTION_WORDS)
        for triple in ref["triples"]:
            known.update(w for part in triple for w in _words(part))
        for text in _texts(ref):
            known.update(_words(text))
        bad = sum(w not in known for w in words)
        flagged += bad > 0
        unsupported += bad
        n_words += len(words)
    return {"slot_recall": 100.0 * found / max(1, total),
            "hallucination": 100.0 * flagged / len(predictions),
            "unsupported_words": 100.0 * unsupported / max(1, n_words)}
