"""Toy GLUE data with exact labels, drawn from the shared toy world.

* ``sst2``: sentiment composed from a small polarity lexicon with intensifiers, negation ("not good" is
  negative, "not bad" positive) and contrast ("X but Y" and "although X , Y" take Y's polarity, and X is
  given the opposite polarity), so neither a bag of words nor the first clause tells the label.
* ``mnli``: a scene description as premise; the hypothesis states one attribute of one object with the same
  templates for every class: the true value (entailment), a flipped value (contradiction), or an attribute
  the premise does not mention for that object (neutral). A hypothesis-only classifier stays near 33%.
  Training and validation scenes never contain the world's held-out colour-shape pairs; test scenes may.
* ``rte``: the same pairs, two-way (``yes`` = entailment, half of the rows).
* ``cola``: grammar sentences (``yes``) against corrupted ones (``no``): two adjacent words swapped, a word
  dropped or a word doubled.
* ``stsb``: two sentences naming two objects that share 0-4 of their 4 attributes; score = 1.25 x shared.

Labels are balanced exactly within each subtask; splits are disjoint by construction (content-hashed keys).
"""
from __future__ import annotations

import random
from typing import Callable

from polymodal_plugin_toyworld import World, draw_balanced, vocab
from polymodal_plugin_toyworld.grammar import random_sentence

__all__ = ["TOY_SUBTASKS", "make_subtask_rows"]

_SUBJECTS = ("the film", "the acting", "the plot", "the music", "the ending", "the food", "the service",
             "the story", "the hotel", "the game", "the book", "the show")
_NLI_ATTRIBUTES = ("colour", "size", "material")


def _clause(rng: random.Random, positive: bool) -> str:
    """A clause of the wanted polarity, negated half of the time."""
    negated = rng.random() < 0.5
    word_positive = positive != negated
    word = rng.choice(vocab.POSITIVE_WORDS if word_positive else vocab.NEGATIVE_WORDS)
    intensifier = f"{rng.choice(vocab.INTENSIFIERS)} " if rng.random() < 0.4 else ""
    verb = rng.choice(("was", "is"))
    neg = "not " if negated else ""
    return f"{rng.choice(_SUBJECTS)} {verb} {neg}{intensifier}{word}"


def _sentiment(rng: random.Random, label: str) -> dict[str, str]:
    positive = label == "positive"
    form = rng.randrange(3)
    if form == 0:
        text = f"{_clause(rng, positive)} ."
    elif form == 1:
        text = f"{_clause(rng, not positive)} but {_clause(rng, positive)} ."
    else:
        text = f"although {_clause(rng, not positive)} , {_clause(rng, positive)} ."
    return {"sentence": text, "label": label}


def _nli(world: World, split: str) -> Callable[[random.Random, str], dict[str, str]]:
    def make(rng: random.Random, label: str) -> dict[str, str]:
        while True:
            scene = world.scene(rng, split, rng.randint(2, 3), distinct_shapes=True)
            mention = [[a for a in _NLI_ATTRIBUTES if rng.random() < 0.5] for _ in scene.objects]
            want_mentioned = label != "neutral"
            options = [(i, a) for i, m in enumerate(mention) for a in _NLI_ATTRIBUTES if (a in m) == want_mentioned]
            if options:
                break
        i, attribute = rng.choice(options)
        obj = scene.objects[i]
        if label == "entailment":
            value = obj.get(attribute)
        elif label == "contradiction":
            value = world.other_value(rng, attribute, obj.get(attribute))
        else:
            value = rng.choice(World.values(attribute))
        # One hypothesis template for every class and attribute, so the hypothesis alone tells nothing.
        return {"sent1": scene.describe(mention), "sent2": f"the {obj.shape} is {value} .", "label": label}
    return make


def _corrupt(rng: random.Random, sentence: str) -> str:
    words = sentence.split()
    body = len(words) - 1  # keep the final full stop in place
    for _ in range(20):
        kind = rng.randrange(3)
        i = rng.randrange(body - 1)
        if kind == 0 and words[i] != words[i + 1]:
            out = words[:i] + [words[i + 1], words[i]] + words[i + 2:]
        elif kind == 1:
            out = words[:i] + words[i + 1:]
        else:
            out = words[:i + 1] + [words[i]] + words[i + 1:]
        if out != words:
            return " ".join(out)
    return " ".join(words[1:])


def _cola(rng: random.Random, label: str) -> dict[str, str]:
    sentence = random_sentence(rng)
    if label == "yes":
        return {"sentence": sentence, "label": "yes"}
    return {"sentence": _corrupt(rng, sentence), "label": "no"}


_STSB_SCORES = tuple(f"{1.25 * k:.1f}" for k in range(5))


def _stsb(world: World, split: str) -> Callable[[random.Random, str], dict[str, str]]:
    attributes = ("size", "colour", "material", "shape")

    def make(rng: random.Random, label: str) -> dict[str, str]:
        shared = _STSB_SCORES.index(label)
        a = world.random_object(rng, split)
        keep = set(rng.sample(attributes, shared))
        b = a
        for attr in attributes:
            if attr not in keep:
                b = b.with_value(attr, world.other_value(rng, attr, a.get(attr)))
        if not world.held_out.allowed(b.colour, b.shape, split):
            return make(rng, label)
        all4 = attributes
        sent1 = f"there is a {a.phrase(all4)} ."
        sent2 = rng.choice((f"a {b.phrase(all4)} is here .", f"i can see a {b.phrase(all4)} ."))
        return {"sent1": sent1, "sent2": sent2, "label": label}
    return make


# What makes two rows "the same" for split disjointness: NLI premises (scenes) never recur across splits;
# STS-B has only 144 distinct first sentences, so there the pair is the unit.
_SPLIT_KEYS: dict[str, Callable[[dict[str, str]], object]] = {
    "sst2": lambda r: r["sentence"], "cola": lambda r: r["sentence"], "mnli": lambda r: r["sent1"],
    "rte": lambda r: r["sent1"], "stsb": lambda r: (r["sent1"], r["sent2"]),
}

#: The subtasks that have a toy generator.
TOY_SUBTASKS: tuple[str, ...] = ("sst2", "mnli", "rte", "cola", "stsb")


def make_subtask_rows(subtask: str, n: int, seed: int, split: str) -> list[dict[str, str]]:
    """Draw ``n`` toy rows of ``subtask`` for ``split`` (keys: the subtask's columns and ``label``)."""
    world = World(seed)
    if subtask == "sst2":
        make: Callable[[random.Random, str], dict[str, str]] = _sentiment
        labels: tuple[str, ...] = ("negative", "positive")
    elif subtask == "mnli":
        make, labels = _nli(world, split), ("entailment", "neutral", "contradiction")
    elif subtask == "rte":
        nli = _nli(world, split)

        def make(rng: random.Random, label: str) -> dict[str, str]:
            # "no" is half contradiction, half neutral, so either kind of non-entailment is learned.
            row = nli(rng, "entailment" if label == "yes" else rng.choice(("neutral", "contradiction")))
            return {**row, "label": label}
        labels = ("no", "yes")
    elif subtask == "cola":
        make, labels = _cola, ("no", "yes")
    elif subtask == "stsb":
        make, labels = _stsb(world, split), _STSB_SCORES
    else:
        raise ValueError(f"no toy generator for GLUE subtask {subtask!r}; toys exist for "
                         f"{', '.join(TOY_SUBTASKS)}")
    return draw_balanced(make, labels, n, seed, split, key=_SPLIT_KEYS[subtask], stream=f"glue.{subtask}")
