"""Natural-Instructions data: NIv2 fixtures, malformed files, toy families, splits, round trip and baseline."""
from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from polymodal.errors import DataError
from polymodal_task_natural_instructions.data import (
    baseline, families_in, load, make_toy, split_sizes, write_toy,
)
from polymodal_task_natural_instructions.evaluate import per_task_exact_match
from polymodal_task_natural_instructions.families import FAMILIES, HELD_OUT_FAMILY, number_words

FIXTURES = Path(__file__).parent / "fixtures"
CAPITALS = FIXTURES / "tasks" / "task900_toy_capital_cities.json"


def test_loader_reads_a_niv2_task_exactly():
    definition = "Definition: In this task, you are given the name of a country. Answer with its capital city."
    examples = ("Positive Example 1 - Input: France Output: Paris "
                "Negative Example 1 - Input: Italy Output: Milan")
    assert load(CAPITALS) == [
        {"instruction": definition, "examples": examples,
         "src": "Now complete the following example - Input: Kenya Output:", "tgt": "Nairobi",
         "answers": ["Nairobi"], "task": "task900_toy_capital_cities"},
        {"instruction": definition, "examples": examples,
         "src": "Now complete the following example - Input: Netherlands Output:", "tgt": "Amsterdam",
         "answers": ["Amsterdam", "The Hague"], "task": "task900_toy_capital_cities"},
    ]


def test_example_counts_task_name_and_task_lists():
    rows = load(CAPITALS, pos_examples=2, neg_examples=0, add_task_name=True)
    assert rows[0]["examples"] == ("Positive Example 1 - Input: France Output: Paris "
                                   "Positive Example 2 - Input: Japan Output: Tokyo")
    assert rows[0]["instruction"].startswith("Task: task900_toy_capital_cities. Definition: In this task")
    folder = FIXTURES / "tasks"
    assert [r["task"] for r in load(folder)] == ["task900_toy_capital_cities"] * 2 + ["task901_toy_plural"]
    listed = load(folder, tasks=FIXTURES / "splits" / "default" / "test_tasks.txt")
    assert [(r["src"], r["tgt"], r["examples"]) for r in listed] == [
        ("Now complete the following example - Input: box Output:", "boxes",
         "Positive Example 1 - Input: cat Output: cats")]
    with pytest.raises(DataError, match="task999"):
        load(folder, tasks=["task999"])


def test_invalid_json_names_file_and_line():
    bad = FIXTURES / "malformed" / "task902_bad_json.json"
    with pytest.raises(DataError) as info:
        load(bad)
    assert info.value.row == 5 and "line 5" in str(info.value) and str(bad) in str(info.value)


def test_instance_without_output_names_its_line():
    bad = FIXTURES / "malformed" / "task903_no_output.json"
    with pytest.raises(DataError) as info:
        load(bad)
    assert info.value.row == 6 and info.value.column == "output"
    assert "Instances[1]" in str(info.value)


def test_toy_is_deterministic_and_splits_never_share_an_instance():
    splits = {s: make_toy(360, 1, s) for s in ("train", "valid", "test")}
    assert make_toy(360, 1, "train") == splits["train"]
    for a, b in itertools.combinations(splits, 2):
        assert not {(r["task"], r["src"]) for r in splits[a]} & {(r["task"], r["src"]) for r in splits[b]}
    # examples never show a valid or test input
    shown = {(r["task"], x) for r in splits["test"] for x in re.findall(r"Input: (.*?) Output:", r["examples"])}
    assert len(shown) == 2 * len(FAMILIES)  # one positive and one negative example by default
    for row in splits["test"] + splits["valid"]:
        assert (row["task"], re.search(r"Input: (.*) Output:$", row["src"]).group(1)) not in shown


def test_held_out_family_is_in_test_only_and_families_are_balanced():
    held = f"toy_{HELD_OUT_FAMILY}"
    train, test = make_toy(340, 0, "train"), make_toy(360, 0, "test")
    assert held not in {r["task"] for r in train}
    counts = Counter(r["task"] for r in test)
    assert held in counts and len(counts) == len(FAMILIES)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert families_in("valid") == families_in("train")


def test_definitions_are_paraphrased_across_instances():
    rows = make_toy(900, 0, "train")
    per_task = {}
    for r in rows:
        per_task.setdefault(r["task"], set()).add(r["instruction"])
    for task, definitions in per_task.items():
        assert len(definitions) >= 3, task


def test_toy_answers_are_correct():
    for row in make_toy(400, 2, "test"):
        x = row["src"].split("Input: ", 1)[1].rsplit(" Output:", 1)[0]
        y = row["tgt"]
        task = row["task"][len("toy_"):]
        if task == "sort_numbers":
            assert [int(v) for v in y.split()] == sorted(int(v) for v in x.split())
        elif task in ("add_numbers", "subtract_numbers"):
            a, b = (int(v) for v in x.split(" and "))
            assert int(y) == (a + b if task == "add_numbers" else a - b) and a > b
        elif task == "reverse_words":
            assert y.split() == x.split()[::-1]
        elif task == "words_to_number":
            n, things = y.split(" ", 1)
            assert x == f"{number_words(int(n))} {things}"
        elif task == "count_letter":
            _, letter, _, words = x.split(" ", 3)
            assert int(y) == words.replace(" ", "").count(letter)


def test_write_toy_then_load_round_trips(tmp_path):
    folders = write_toy(tmp_path, 60, 3)
    assert [f.name for f in folders] == ["train", "valid", "test"]
    for folder, split in zip(folders, ("train", "valid", "test")):
        assert load(folder) == make_toy(split_sizes(60)[split], 3, split)
    task = json.loads((folders[2] / f"toy_{HELD_OUT_FAMILY}.json").read_text())
    assert set(task) >= {"Definition", "Positive Examples", "Negative Examples", "Instances"}
    assert all(isinstance(i["output"], list) for i in task["Instances"])


def test_copy_baseline_is_low():
    rows = make_toy(540, 0, "test")
    predictions = baseline([], rows)
    assert predictions[0] == rows[0]["src"].split("Input: ", 1)[1].rsplit(" Output:", 1)[0]
    exact = sum(p.lower() in {a.lower() for a in r["answers"]} for p, r in zip(predictions, rows)) / len(rows)
    assert exact < 0.1  # only upper-casing is solved by a case-blind copy
    scores = per_task_exact_match(predictions, rows)
    assert scores["toy_uppercase"] == 100.0 and scores["toy_add_numbers"] == 0.0
    assert scores["held_out"] == 0.0 and 0.0 < scores["seen"] < 10.0
