"""Training-time text noise: BART whole-word span masking and random-token replacement."""
from __future__ import annotations

import math
import random
from typing import Sequence

__all__ = ["span_mask", "mask_flags", "text_rng", "replace_noise"]


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: exact for small lambda (BART uses 3)
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def mask_flags(n_words: int, ratio: float, rng: random.Random, lam: float = 3.0) -> tuple[list[bool], set[int]]:
    """Choose BART spans over ``n_words`` words: about ``ratio`` of them are covered by spans of Poisson(``lam``)
    words. Returns one flag per word (``True`` where masked) and the positions where a zero-length span inserts
    a mask before an unmasked word."""
    budget = int(math.ceil(ratio * n_words))
    masked = [False] * n_words
    inserts: set[int] = set()
    guard = 0
    while budget > 0 and guard < 10 * n_words:
        guard += 1
        length = _poisson(rng, lam)
        start = rng.randrange(n_words)
        if length == 0:
            inserts.add(start)
            continue
        for i in range(start, min(n_words, start + length)):
            if not masked[i] and budget > 0:
                masked[i] = True
                budget -= 1
    return masked, inserts


def text_rng(text: str) -> random.Random:
    """The random stream of evaluation-time masking: a function of the text alone, so the same sentence is
    masked the same way in every run, subset and order, and a baseline or metric can recompute the pattern."""
    return random.Random("polymodal-mask:" + text)


def span_mask(tokens: Sequence[int], word_starts: Sequence[bool], ratio: float, mask_id: int,
              rng: random.Random, lam: float = 3.0) -> list[int]:
    """BART whole-word span masking: about ``ratio`` of the words are covered by spans of Poisson(``lam``)
    words; each span becomes a single mask token (zero-length spans insert a mask)."""
    if ratio <= 0 or not tokens:
        return list(tokens)
    words: list[list[int]] = []
    for tok, start in zip(tokens, word_starts):
        if start or not words:
            words.append([tok])
        else:
            words[-1].append(tok)
    masked, inserts = mask_flags(len(words), ratio, rng, lam)
    out: list[int] = []
    for i, word in enumerate(words):
        if i in inserts and not masked[i]:
            out.append(mask_id)
        if masked[i]:
            if not out or out[-1] != mask_id or (i > 0 and not masked[i - 1]):
                out.append(mask_id)
        else:
            out.extend(word)
    return out


def replace_noise(tokens: Sequence[int], ratio: float, low: int, high: int, rng: random.Random) -> list[int]:
    """Replace each token by a random id in ``[low, high)`` with probability ``ratio``."""
    if ratio <= 0:
        return list(tokens)
    return [rng.randrange(low, high) if rng.random() < ratio else t for t in tokens]
