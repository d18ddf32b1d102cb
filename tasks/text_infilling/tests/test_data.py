"""Text infilling: corpus loader, malformed files, toy sentences, round trip and the "the" baseline."""
from __future__ import annotations

import itertools
import random
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from polymodal.components import resolve_target
from polymodal.errors import DataError
from polymodal.instruction.grammar import parse
from polymodal.testing.contracts import TaskContract
from polymodal_task_text_infilling.data import baseline, load, make_toy, mask_words, split_sizes, write_toy
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


def test_mask_words_masks_the_ratio_in_spans():
    rng = random.Random(0)
    lengths = []
    for _ in range(300):
        flags = mask_words(20, 0.3, rng)
        assert sum(flags) == 6
        runs = [len(list(g)) for k, g in itertools.groupby(flags) if k]
        lengths += runs
    assert 1.8 < sum(lengths) / len(lengths) < 4.0  # spans, not scattered single words
    assert mask_words(0, 0.3, rng) == []


def test_the_baseline_fills_masks_with_the_and_is_low_on_masked_words():
    rows = make_toy(300, 0, "test")
    predictions = baseline([], rows)
    assert baseline([], rows) == predictions
    masked_total = masked_right = 0
    for prediction, row in zip(predictions, rows):
        guess, truth = prediction.split(), row["text"].split()
        assert len(guess) == len(truth)
        changed = [i for i, (g, t) in enumerate(zip(guess, truth)) if g != t]
        assert all(guess[i] == "the" for i in changed)
        # the masks cover 30% of words; those that were already "the" are the only masked hits
        n_masked = round(0.3 * len(truth))
        masked_total += n_masked
        masked_right += n_masked - len(changed)
    assert masked_right / masked_total < 0.2


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
