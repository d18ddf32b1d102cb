"""Sentences of the toy world: a small grammar, plus real sentences when the system happens to have them.

:func:`random_sentence` draws one sentence (8-16 words, lower case, space-separated punctuation) from a
dozen templates over the shared vocabularies; :func:`corpus` draws a split of distinct sentences whose splits
never share a sentence. :func:`real_sentences` reads WordNet glosses (Debian ``wordnet-base``) or fortunes
(Debian ``fortunes``) when those files are on disk; nothing requires them.

Usage::

    rng = split_rng(0, "train", "sentences")
    random_sentence(rng)            # 'the tired baker quickly carried the lamps to the station on friday .'
    corpus(100, seed=0, split="test")
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Callable, Iterable

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.splits import draw_split

__all__ = ["random_sentence", "corpus", "real_sentences", "WORDNET_DIRS", "FORTUNE_DIRS"]

#: Where Debian installs WordNet's data files and the fortune cookies.
WORDNET_DIRS: tuple[str, ...] = ("/usr/share/wordnet", "/usr/share/wordnet/dict")
FORTUNE_DIRS: tuple[str, ...] = ("/usr/share/games/fortunes", "/usr/share/fortunes")


def _np(rng: random.Random) -> str:
    """A definite noun phrase: ``"the old farmer"`` or a person's name."""
    if rng.random() < 0.35:
        return rng.choice(vocab.PEOPLE)
    adj = f"{rng.choice(vocab.ADJECTIVES)} " if rng.random() < 0.7 else ""
    return f"the {adj}{rng.choice(vocab.NOUNS)}"


def _past(rng: random.Random) -> str:
    return rng.choice(vocab.VERBS)[1]


def _obj(rng: random.Random) -> str:
    count = rng.random()
    things = rng.choice(vocab.THINGS)
    if count < 0.3:
        return f"{vocab.number_word(rng.randint(2, 12))} {things}"
    return f"the {things}"


def _shape(rng: random.Random) -> str:
    return f"{rng.choice(vocab.SIZES)} {rng.choice(vocab.COLORS)} {rng.choice(vocab.SHAPES)}"


_TEMPLATES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"{_np(r)} {r.choice(vocab.ADVERBS)} {_past(r)} {_obj(r)} at {r.choice(vocab.PLACES)} "
              f"on {r.choice(vocab.WEEKDAYS)} .",
    lambda r: f"on {r.choice(vocab.WEEKDAYS)} , {_np(r)} walked to {r.choice(vocab.PLACES)} with {_np(r)} .",
    lambda r: f"{_np(r)} said that {_np(r)} was very {r.choice(vocab.ADJECTIVES)} .",
    lambda r: f"every {r.choice(vocab.WEEKDAYS)} , {_np(r)} {_past(r)} {_obj(r)} near {r.choice(vocab.PLACES)} .",
    lambda r: f"when {_np(r)} came to {r.choice(vocab.PLACES)} , {_np(r)} was {r.choice(vocab.ADJECTIVES)} .",
    lambda r: f"there is a {_shape(r)} {r.choice(vocab.RELATIONS)} the {_shape(r)} .",
    lambda r: f"{_np(r)} {_past(r)} {_obj(r)} because {_np(r)} was {r.choice(vocab.ADJECTIVES)} .",
    lambda r: f"{_np(r)} and {_np(r)} {r.choice(vocab.ADVERBS)} {_past(r)} {_obj(r)} .",
    lambda r: f"the {r.choice(vocab.THINGS)} at {r.choice(vocab.PLACES)} were {r.choice(vocab.ADJECTIVES)} "
              f"and {r.choice(vocab.ADJECTIVES)} .",
    lambda r: f"after {r.choice(vocab.WEEKDAYS)} , {_np(r)} never {_past(r)} {_obj(r)} again .",
    lambda r: f"{_np(r)} put the {r.choice(vocab.COLORS)} {r.choice(vocab.THINGS)} in {r.choice(vocab.PLACES)} .",
    lambda r: f"{_np(r)} {_past(r)} {_obj(r)} and then {_past(r)} {_obj(r)} .",
)


def random_sentence(rng: random.Random) -> str:
    """Draw one sentence of the world grammar (lower case, tokens separated by single spaces)."""
    return rng.choice(_TEMPLATES)(rng)


def corpus(n: int, seed: int = 0, split: str = "train", *, stream: str = "sentences",
           extra: Iterable[str] = ()) -> list[str]:
    """Draw ``n`` distinct sentences for ``split``; two splits of the same seed never share a sentence.

    Args:
        n: number of sentences.
        seed: the seed of the stream and the split assignment.
        split: ``train``, ``valid`` or ``test``.
        stream: stream name, to draw an independent corpus under the same seed.
        extra: further candidate sentences (e.g. :func:`real_sentences`), mixed in with the grammar's at
            the same rate as grammar sentences are drawn (one candidate from each in turn).
    """
    pool = list(extra)

    def make(rng: random.Random) -> str:
        if pool and rng.random() < 0.5:
            return rng.choice(pool)
        return random_sentence(rng)

    return draw_split(make, n, seed, split, key=lambda s: s, stream=stream)


def real_sentences(limit: int = 10_000, *, min_words: int = 5, max_words: int = 30,
                   roots: Iterable[str] | None = None) -> list[str]:
    """Real English sentences from WordNet glosses and fortune files found on disk (empty when none).

    Args:
        limit: stop after this many sentences.
        min_words, max_words: keep sentences of this many words.
        roots: directories to search (default: :data:`WORDNET_DIRS` then :data:`FORTUNE_DIRS`).
    """
    dirs = list(roots) if roots is not None else [*WORDNET_DIRS, *FORTUNE_DIRS]
    out: list[str] = []
    for root in map(Path, dirs):
        if not root.is_dir():
            continue
        for path in sorted(root.iterdir()):
            if len(out) >= limit:
                return out
            if path.name.startswith("data.") and path.is_file():
                out.extend(_glosses(path, limit - len(out), min_words, max_words))
            elif path.is_file() and not path.suffix and not path.name.startswith("."):
                out.extend(_fortunes(path, limit - len(out), min_words, max_words))
    return out[:limit]


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*([.,;:!?])", r" \1", text).lower()


def _glosses(path: Path, limit: int, lo: int, hi: int) -> list[str]:
    out: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            # A data line is "offset lex_filenum ... | gloss"; the licence header lines start with spaces.
            if line.startswith(" ") or "|" not in line:
                continue
            gloss = line.split("|", 1)[1].split(";")[0].strip().strip('"')
            sentence = _clean(gloss)
            if lo <= len(sentence.split()) <= hi:
                out.append(sentence)
                if len(out) >= limit:
                    break
    return out


def _fortunes(path: Path, limit: int, lo: int, hi: int) -> list[str]:
    out: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return out  # binary .dat index files and unreadable files are not corpora
    for entry in text.split("\n%\n"):
        if "\t" in entry or "--" in entry:
            continue  # attributions and formatted poems make poor sentences
        sentence = _clean(entry)
        if sentence and lo <= len(sentence.split()) <= hi:
            out.append(sentence)
            if len(out) >= limit:
                break
    return out
