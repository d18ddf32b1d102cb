"""Word and character error rates for speech recognition, with jiwer's edit-distance alignment.

Both are corpus rates, not means of per-row rates: the total number of edits (substitutions + deletions +
insertions) over the whole split divided by the total number of reference words (WER) or non-space
characters (CER), x100. Lower is better, and a rate can exceed 100 when the output has many insertions.

By default both sides are normalised first (lower-case, apostrophes deleted, other punctuation turned into
spaces, whitespace collapsed), since references such as LibriSpeech's are upper case without punctuation
while a text decoder produces both. With several references a row uses the one with the fewest edits
(the first on ties), and its length enters the denominator.

CER ignores spaces: they are removed before aligning, so only the characters of the words count, which
also suits languages written without spaces (AISHELL).

Usage::

    from polymodal_plugin_metrics.error_rates import cer, wer
    wer(["the cat sat"], ["The cat sat down."])   # 1 deletion / 4 words -> {"wer": 25.0}
"""
from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from polymodal.errors import DataError

from ._inputs import alternatives, as_text, check_pair

__all__ = ["wer", "cer", "normalize_transcript"]

_APOSTROPHES = re.compile(r"['\u2019]")
_NON_WORD = re.compile(r"[^\w\s]|_")


def normalize_transcript(value: Any) -> str:
    """Lower-case, delete apostrophes (``"don't"`` -> ``"dont"``), turn other punctuation into spaces."""
    text = _APOSTROPHES.sub("", as_text(value).lower())
    return " ".join(_NON_WORD.sub(" ", text).split())


def _edits(output: Any) -> int:
    return int(output.substitutions + output.deletions + output.insertions)


def _corpus_rate(name: str, predictions: Sequence[Any], references: Sequence[Any], normalize: bool,
                 prepare: Callable[[str], str], align: Callable[[str, str], int],
                 size: Callable[[str], int], unit: str) -> dict[str, float]:
    preds, refs = check_pair(name, predictions, references)
    canon = normalize_transcript if normalize else as_text
    edits = total = 0
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        hypothesis = prepare(canon(pred))
        best: tuple[int, int] | None = None
        for alt in alternatives(name, ref, row):
            gold = prepare(canon(alt))
            candidate = (align(gold, hypothesis), size(gold))
            if best is None or candidate[0] < best[0]:
                best = candidate
        assert best is not None  # alternatives() never returns an empty list
        edits += best[0]
        total += best[1]
    if total == 0:
        raise DataError(f"{name}: the references contain no {unit}, so the error rate is undefined")
    return {name: 100.0 * edits / total}


def wer(predictions: Sequence[Any], references: Sequence[Any], *, normalize: bool = True
        ) -> dict[str, float]:
    """Corpus word error rate x100: total word edits / total reference words.

    Args:
        predictions: one transcript per row (``None`` is the empty transcript).
        references: per row, the reference transcript or a list/tuple of acceptable ones.
        normalize: apply :func:`normalize_transcript` to both sides; else split the raw text on whitespace.

    Returns:
        ``{"wer": percent}`` (0 is perfect; lower is better).

    Raises:
        DataError: empty input, mismatched lengths, a row without references, or no reference words.
    """
    import jiwer

    def align(gold: str, hypothesis: str) -> int:
        return _edits(jiwer.process_words([gold], [hypothesis]))

    return _corpus_rate("wer", predictions, references, normalize, lambda text: " ".join(text.split()),
                        align, lambda text: len(text.split()), "words")


def cer(predictions: Sequence[Any], references: Sequence[Any], *, normalize: bool = True
        ) -> dict[str, float]:
    """Corpus character error rate x100, spaces ignored: total character edits / reference characters.

    Args:
        predictions: one transcript per row (``None`` is the empty transcript).
        references: per row, the reference transcript or a list/tuple of acceptable ones.
        normalize: apply :func:`normalize_transcript` to both sides first.

    Returns:
        ``{"cer": percent}`` (0 is perfect; lower is better).

    Raises:
        DataError: empty input, mismatched lengths, a row without references, or no reference characters.
    """
    import jiwer

    def align(gold: str, hypothesis: str) -> int:
        return _edits(jiwer.process_characters([gold], [hypothesis]))

    return _corpus_rate("cer", predictions, references, normalize, lambda text: "".join(text.split()),
                        align, len, "characters")
