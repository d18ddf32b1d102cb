"""Text infilling: corpus loader, malformed files, toy sentences, round trip and the "the" baseline."""
from __future__ import annotations

import itertools
import math
import random
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from polymodal.components import resolve_target
from polymodal.errors import DataError
from polymodal.vocab import MASK
from polymodal.instruction.grammar import parse
from polymodal.testing.contracts import TaskContract
from polymodal_task_text_infilling.data import baseline, load, make_toy, split_sizes, write_toy
from polymodal_task_text_infilling.evaluate import hidden_words, masked_word_accuracy
from polymodal_task_text_infilling.task import TEXT_INFILLING

FIXTURES = Path(__file__).parent / "fixtures"


def test_loader_reads_text_and_jsonl_fixtures_exactly():
    assert load(FIXTURES / "corpus.txt") == [
        {"text": "The quick brown fox jumps over the lazy dog."},
        {"text": "A journey of a thousand miles begins with a single step."},
        {"text": "Two roads diverged in a wood."},
    ]
    assert load(FIXTURES / "corpus.jsonl") == [{"text": "Time flies like an arrow."},
                                               {"text": "Fruit flies like a banana."}]


def test_text_field_option_selects_the_json_field(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"body": "one two"}\n{"body": "three"}\n')
    assert load(path, text_field="body") == [{"text": "one two"}, {"text": "three"}]


@pytest.mark.parametrize("name,line,column", [("bad.jsonl", 3, None), ("missing_field.jsonl", 2, "text"),
                                              ("latin1.txt", 2, None)])
def test_malformed_files_name_file_and_line(name, line, column):
    path = FIXTURES / "malformed" / name
    with pytest.raises(DataError) as info:
        load(path)
    assert info.value.row == line and info.value.column == column
    assert f"line {line}" in str(info.value) and str(path) in str(info.value)


def test_folder_needs_a_split(tmp_path):
    with pytest.raises(DataError, match="split="):
        load(tmp_path)
    with pytest.raises(DataError, match="no test.txt"):
        load(tmp_path, split="test")


def test_toy_is_deterministic_and_disjoint():
    splits = {s: make_toy(200, 6, s) for s in ("train", "valid", "test")}
    assert make_toy(200, 6, "valid") == splits["valid"]
    for a, b in itertools.combinations(splits, 2):
        assert not {r["text"] for r in splits[a]} & {r["text"] for r in splits[b]}
    lengths = [len(r["text"].split()) for r in splits["train"]]
    assert min(lengths) >= 6 and max(lengths) <= 22


def test_write_toy_then_load_round_trips(tmp_path):
    paths = write_toy(tmp_path, 30, 2)
    assert [p.name for p in paths] == ["train.txt", "valid.txt", "test.txt"]
    for path, split in zip(paths, ("train", "valid", "test")):
        assert load(path) == make_toy(split_sizes(30)[split], 2, split)
    assert load(tmp_path, split="dev") == load(paths[1])


def test_hidden_words_cover_the_ratio_in_spans_and_depend_on_the_text_alone():
    lengths = []
    for row in make_toy(300, 0, "train"):
        flags = hidden_words(row["text"], 0.3)
        assert len(flags) == len(row["text"].split())
        assert sum(flags) == math.ceil(0.3 * len(flags))
        assert hidden_words(row["text"], 0.3) == flags
        lengths += [len(list(g)) for k, g in itertools.groupby(flags) if k]
    assert 1.8 < sum(lengths) / len(lengths) < 4.0  # spans, not scattered single words


def test_the_evaluation_input_hides_exactly_the_words_the_metric_scores(tmp_path):
    """The preprocessor's evaluation mask and the metric's recomputed pattern are the same words."""
    from polymodal.api.model import GeneralistModel
    from polymodal.api.task import Task

    rows = make_toy(20, 0, "test")
    model = GeneralistModel("nano", resource_options={"text.tokenizer": {"vocab_size": 1000}})
    task = Task("text_infilling", TEXT_INFILLING.instructions)
    task.add_dataset(rows, "train")
    model.build([task])
    enc = model.task_encoder("text_infilling")
    (pre,) = [p for p in enc.pre.values() if p.attrs.get("mask_ratio")]
    tokenizer = model.ctx.resource("text.tokenizer")
    rng = random.Random(0)  # evaluation ignores the row stream: the pattern comes from the text
    for row in rows:
        tokens = pre.encode(row["text"], train=False, rng=rng, row=row)["tokens"]
        visible = tokenizer.decode([t - pre.offset for t in tokens if t != MASK]).split()
        words, flags = row["text"].split(), hidden_words(row["text"], 0.3)
        assert visible == [w for w, f in zip(words, flags) if not f]
        assert MASK in tokens


def test_the_baseline_fills_hidden_words_with_the_and_scores_low_on_them():
    rows = make_toy(300, 0, "test")
    predictions = baseline([], rows)
    assert baseline([], rows) == predictions
    for prediction, row in zip(predictions, rows):
        guess, truth = prediction.split(), row["text"].split()
        assert len(guess) == len(truth)
        assert all(g == "the" for g, t in zip(guess, truth) if g != t)
    scores = masked_word_accuracy(predictions, [r["text"] for r in rows])
    assert scores["masked_word_accuracy"] < 20
    assert scores["exact"] < 30
    assert masked_word_accuracy([r["text"] for r in rows], [r["text"] for r in rows]) == {
        "masked_word_accuracy": 100.0, "exact": 100.0}


def test_masked_word_accuracy_aligns_before_scoring():
    ref = "the large bird was dark and the queen sang loudly at the market"
    flags = hidden_words(ref, 0.3)
    words = ref.split()
    # drop one visible word: a position-wise score would shift every later word, the aligned one does not
    drop = next(i for i, f in enumerate(flags) if not f)
    pred = " ".join(w for i, w in enumerate(words) if i != drop)
    assert masked_word_accuracy([pred], [ref])["masked_word_accuracy"] == 100.0
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        masked_word_accuracy([pred, pred], [ref])


def test_entry_point_spec_and_import_lightness():
    eps = {ep.name: ep for ep in entry_points(group="polymodal.tasks")}
    assert eps["text_infilling"].load() is TEXT_INFILLING
    code = "import sys, polymodal_task_text_infilling.task; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    syntax = parse(TEXT_INFILLING.instructions[0])
    assert {s.name for s in syntax.encoder.slots() + syntax.decoder.slots()} == {"text"}
    assert set(resolve_target(TEXT_INFILLING.toy)(3, 0, "train")[0]) == {"text"}
    for target in (*TEXT_INFILLING.loaders.values(), TEXT_INFILLING.write_toy, TEXT_INFILLING.baseline):
        assert callable(resolve_target(target))


class TestTextInfillingContract(TaskContract):
    name = "text_infilling"
