"""Toy GLUE data: determinism, disjoint splits, balance, round trip and low trivial baselines."""
from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict

import pytest

from polymodal_plugin_toyworld import World, vocab
from polymodal_task_glue.data import baseline, load, make_toy, write_toy
from polymodal_task_glue.subtasks import get_subtask
from polymodal_task_glue.toy import TOY_SUBTASKS


def _key(row):
    return tuple(v for k, v in row.items() if k != "label")


@pytest.mark.parametrize("subtask", TOY_SUBTASKS)
def test_toy_is_deterministic_balanced_and_disjoint(subtask):
    splits = {s: make_toy(120, 3, s, subtask) for s in ("train", "valid", "test")}
    assert make_toy(120, 3, "train", subtask) == splits["train"]
    assert make_toy(120, 4, "train", subtask) != splits["train"]
    for a, b in itertools.combinations(splits, 2):
        assert not {_key(r) for r in splits[a]} & {_key(r) for r in splits[b]}
    spec = get_subtask(subtask)
    counts = Counter(r["label"] for r in splits["train"])
    assert set(counts) == set(spec.closed_set) if subtask != "stsb" else set(counts) <= set(spec.closed_set)
    assert max(counts.values()) - min(counts.values()) <= 1
    for row in splits["train"]:
        assert set(row) == {*spec.columns, "label"}
        assert all(isinstance(v, str) and v and "\t" not in v for v in row.values())


def _accuracy(predictions, rows):
    return 100.0 * sum(p == r["label"] for p, r in zip(predictions, rows)) / len(rows)


@pytest.mark.parametrize("subtask,ceiling", [("sst2", 55.0), ("mnli", 40.0), ("rte", 55.0), ("cola", 55.0)])
def test_majority_baseline_is_low(subtask, ceiling):
    train = make_toy(300, 0, "train", subtask)
    test = make_toy(90, 0, "test", subtask)
    predictions = baseline(train, test)
    assert len(set(predictions)) == 1
    assert _accuracy(predictions, test) < ceiling


def test_nli_hypothesis_alone_does_not_tell_the_label():
    train = make_toy(1500, 0, "train", "mnli")
    test = make_toy(300, 0, "test", "mnli")
    by_hypothesis = defaultdict(Counter)
    for row in train:
        by_hypothesis[row["sent2"]][row["label"]] += 1
    fallback = Counter(r["label"] for r in train).most_common(1)[0][0]
    predictions = [by_hypothesis[r["sent2"]].most_common(1)[0][0] if r["sent2"] in by_hypothesis else fallback
                   for r in test]
    assert _accuracy(predictions, test) < 45.0


def test_sentiment_word_counting_does_not_tell_the_label():
    test = make_toy(400, 0, "test", "sst2")
    positive, negative = set(vocab.POSITIVE_WORDS), set(vocab.NEGATIVE_WORDS)

    def vote(sentence: str) -> str:
        words = sentence.split()
        score = sum(w in positive for w in words) - sum(w in negative for w in words)
        return "positive" if score > 0 else "negative"

    assert _accuracy([vote(r["sentence"]) for r in test], test) < 65.0


def test_nli_training_scenes_avoid_the_held_out_colour_shape_pairs():
    held = World(0).held_out.pairs
    phrase = {pair: re.compile(rf"\b{pair[0]} (?:\w+ )?{pair[1]}\b") for pair in held}
    train = " ".join(r["sent1"] for r in make_toy(600, 0, "train", "mnli"))
    test = " ".join(r["sent1"] for r in make_toy(600, 0, "test", "mnli"))
    assert not any(p.search(train) for p in phrase.values())
    assert any(p.search(test) for p in phrase.values())


@pytest.mark.parametrize("subtask", TOY_SUBTASKS)
def test_write_toy_then_load_round_trips(tmp_path, subtask):
    paths = write_toy(tmp_path, 40, 5, subtasks=(subtask,))
    assert [p.parent.name for p in paths] == [get_subtask(subtask).folder] * 3
    for path, split, size in zip(paths, ("train", "valid", "test"), (40, 8, 8)):
        assert load(path) == make_toy(size, 5, split, subtask)
