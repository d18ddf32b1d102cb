"""Seeded random streams and disjoint train/valid/test splits for toy generators.

Two mechanisms keep toy splits honest:

* :func:`split_rng` gives each ``(seed, split, stream)`` its own ``random.Random``, derived with a stable hash
  (never Python's salted ``hash``), so a generator never touches global random state and the same seed gives
  the same data in every process.
* :func:`split_of` assigns an *item* to a split by hashing its content key. A generator that keeps only the
  items whose key belongs to the requested split (:func:`draw_split`) produces splits that are disjoint by
  construction, whatever the random streams do.

:class:`HeldOutPairs` holds out a few combinations of two attributes (e.g. a colour-shape pair) from
training, while every single value stays seen, so a test split can show generalisation, not only fitting.

Example::

    rng = split_rng(0, "train", "captions")
    rows = draw_split(lambda r: make_row(r), n=100, seed=0, split="train", key=lambda row: row["text"])
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Sequence, TypeVar

from polymodal.datasets import SPLITS, canonical_split  # one definition of split names, in core

__all__ = [
    "SPLITS", "canonical_split", "stable_hash", "split_rng", "split_of", "draw_split", "HeldOutPairs",
    "held_out_pairs", "unique_keys", "draw_balanced",
]

T = TypeVar("T")
L = TypeVar("L")

#: Default share of the key space given to each split.
DEFAULT_WEIGHTS: tuple[float, float, float] = (0.8, 0.1, 0.1)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of the ``repr`` of ``parts`` that is the same in every process and Python version."""
    text = "\x1f".join(repr(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def split_rng(seed: int, split: str, stream: str = "") -> random.Random:
    """A random stream private to ``(seed, split, stream)``.

    Args:
        seed: the user's seed.
        split: ``train``, ``valid`` or ``test`` (aliases accepted).
        stream: a name that separates independent uses (e.g. ``"scenes"`` and ``"questions"``), so adding a
            draw to one stream never shifts another.
    """
    return random.Random(stable_hash("polymodal-toyworld", seed, canonical_split(split), stream))


def split_of(key: Hashable, seed: int = 0, weights: Sequence[float] = DEFAULT_WEIGHTS) -> str:
    """Assign ``key`` to a split by hashing it; the same key always lands in the same split.

    Args:
        key: the item's identity (its text, or a tuple of its fields).
        seed: changes the assignment as a whole.
        weights: relative sizes of train, valid and test.
    """
    if len(weights) != len(SPLITS) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be {len(SPLITS)} non-negative numbers with a positive sum, got {weights}")
    point = (stable_hash("split", seed, key) % 1_000_003) / 1_000_003 * sum(weights)
    acc = 0.0
    for name, weight in zip(SPLITS, weights):
        acc += weight
        if point < acc:
            return name
    return SPLITS[-1]


def draw_split(make: Callable[[random.Random], T], n: int, seed: int, split: str, *,
               key: Callable[[T], Hashable], stream: str = "", unique: bool = True,
               weights: Sequence[float] = DEFAULT_WEIGHTS, max_tries: int | None = None) -> list[T]:
    """Draw ``n`` items whose keys belong to ``split``: splits drawn this way never share a key.

    Args:
        make: builds one candidate item from a random stream.
        n: how many items to return.
        seed: the seed of both the stream and the split assignment.
        split: the split wanted.
        key: the item's identity for split assignment and de-duplication.
        stream: stream name (see :func:`split_rng`).
        unique: drop repeated keys within the split.
        weights: split sizes, as in :func:`split_of`.
        max_tries: candidates to try before giving up (default ``200 * n + 1000``).

    Raises:
        ValueError: when the item space is too small to give ``n`` items for this split.
    """
    return _draw(lambda rng, _label: make(rng), (None,), n, seed, split, key, stream, unique, weights,
                 max_tries, shuffle=False)


def draw_balanced(make: Callable[[random.Random, L], T], labels: Sequence[L], n: int, seed: int, split: str,
                  *, key: Callable[[T], Hashable], stream: str = "", unique: bool = True,
                  weights: Sequence[float] = DEFAULT_WEIGHTS, max_tries: int | None = None) -> list[T]:
    """Like :func:`draw_split`, with the labels balanced exactly: counts differ by at most one.

    Items are drawn for ``labels[0], labels[1], ...`` in turn and then shuffled, so a majority-class
    baseline scores ``1 / len(labels)`` (up to rounding).

    Args:
        make: builds one candidate item *for the given label* from a random stream.
        labels: the classes to balance.
        n, seed, split, key, stream, unique, weights, max_tries: as in :func:`draw_split`.
    """
    if not labels:
        raise ValueError("draw_balanced needs at least one label")
    return _draw(make, labels, n, seed, split, key, stream, unique, weights, max_tries, shuffle=True)


def _draw(make: Callable[[random.Random, L], T], labels: Sequence[L], n: int, seed: int, split: str,
          key: Callable[[T], Hashable], stream: str, unique: bool, weights: Sequence[float],
          max_tries: int | None, *, shuffle: bool) -> list[T]:
    split = canonical_split(split)
    rng = split_rng(seed, split, stream)
    limit = max_tries if max_tries is not None else 200 * n + 1000
    out: list[T] = []
    seen: set[Hashable] = set()
    tries = 0
    for i in range(n):
        label = labels[i % len(labels)]
        while True:
            if tries >= limit:
                raise ValueError(f"only {len(out)} of {n} distinct {split} items after {tries} draws: the toy "
                                 f"space is too small; ask for fewer items or allow repeats (unique=False)")
            tries += 1
            item = make(rng, label)
            k = key(item)
            if split_of(k, seed, weights) == split and not (unique and k in seen):
                seen.add(k)
                out.append(item)
                break
    if shuffle:
        rng.shuffle(out)
    return out


@dataclass(frozen=True)
class HeldOutPairs:
    """Combinations of two attributes never shown in training (train and valid), only in test.

    Attributes:
        pairs: the held-out ``(first, second)`` combinations.
    """

    pairs: frozenset[tuple[str, str]]

    def is_held_out(self, first: str, second: str) -> bool:
        """Whether ``(first, second)`` is one of the held-out combinations."""
        return (first, second) in self.pairs

    def allowed(self, first: str, second: str, split: str) -> bool:
        """Whether the combination may appear in ``split`` (held-out pairs appear in test only)."""
        return canonical_split(split) == "test" or (first, second) not in self.pairs


def held_out_pairs(seed: int, first: Sequence[str], second: Sequence[str], k: int = 2) -> HeldOutPairs:
    """Choose ``k`` combinations to hold out, no two sharing a value, so every value stays seen in training.

    Because no two held-out pairs share a value, each value loses at most one partner; with at least two
    values on each side every value keeps a seen combination.

    Args:
        seed: selects which pairs.
        first, second: the two attribute vocabularies (e.g. colours and shapes).
        k: number of pairs, at most ``min(len(first), len(second))``.
    """
    if len(first) < 2 or len(second) < 2:
        raise ValueError("held-out pairs need at least two values on each side")
    if not 0 <= k <= min(len(first), len(second)):
        raise ValueError(f"k must be in [0, {min(len(first), len(second))}], got {k}")
    rng = random.Random(stable_hash("held-out", seed, tuple(first), tuple(second)))
    a = list(first)
    b = list(second)
    rng.shuffle(a)
    rng.shuffle(b)
    return HeldOutPairs(frozenset(zip(a[:k], b[:k])))


def unique_keys(items: Iterable[T], key: Callable[[T], Hashable]) -> set[Hashable]:
    """The set of keys of ``items`` (a helper for split-disjointness checks in tests)."""
    return {key(item) for item in items}
