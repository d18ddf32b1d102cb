"""Tests of the DART loader, the toy triple sets, the writer and the baseline."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from polymodal.errors import DataError
from polymodal_task_table_to_text.data import baseline, load, make_toy, split_sizes, write_toy
from polymodal_task_table_to_text.evaluate import bleu, slot_recall

FIXTURE = Path(__file__).parent / "fixtures" / "dart-v1.1.1-full-dev.json"
CAFE = [["Harbour Bridge Cafe", "eatType", "coffee shop"], ["Harbour Bridge Cafe", "area", "riverside"]]
CAFE_TEXTS = ["Harbour Bridge Cafe is a coffee shop by the riverside.",
              "There is a riverside coffee shop called Harbour Bridge Cafe."]
FAIR = [["[TABLECONTEXT]", "[TITLE]", "Example County Fair"], ["[TABLECONTEXT]", "YEAR", "1998"]]


def test_fixture_rows():
    assert load(FIXTURE) == [
        {"database": CAFE, "tgt": CAFE_TEXTS[0], "gold": {"triples": CAFE, "texts": CAFE_TEXTS}},
        {"database": FAIR, "tgt": "The Example County Fair was held in 1998.",
         "gold": {"triples": FAIR, "texts": ["The Example County Fair was held in 1998."]}},
    ]
    expanded = load(FIXTURE, expand=True)
    assert [r["tgt"] for r in expanded] == CAFE_TEXTS + ["The Example County Fair was held in 1998."]
    assert load(FIXTURE, limit=1) == load(FIXTURE)[:1]


def _entry(**change):
    entry = {"tripleset": [["a", "b", "c"]], "annotations": [{"source": "x", "text": "t"}]}
    entry.update(change)
    return entry


@pytest.mark.parametrize("bad, message", [
    (_entry(tripleset=[]), "non-empty list"),
    (_entry(tripleset=[["a", "b"]]), "triple 1 must be three strings"),
    (_entry(annotations=[{"source": "x"}]), "annotation 1 needs a 'text'"),
    ("not an object", "must be a JSON object"),
])
def test_malformed_entry_names_its_line(tmp_path, bad, message):
    path = tmp_path / "bad.json"
    path.write_text("[\n" + json.dumps(_entry()) + ",\n\n" + json.dumps(bad) + "\n]\n")
    with pytest.raises(DataError, match=message) as info:
        load(path)
    assert info.value.row == 4 and info.value.source == str(path) and "line 4" in str(info.value)


@pytest.mark.parametrize("text, line", [
    ('[\n{"tripleset": [["a", "b", "c"]],\n "annotations": [}\n]', 3),
    ('{"tripleset": []}', 1),
    ('[\n' + json.dumps(_entry()) + '\n' + json.dumps(_entry()) + ']', 3),
])
def test_invalid_json_names_its_line(tmp_path, text, line):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load(path)
    assert info.value.row == line


def test_toy_is_deterministic_and_split_disjoint():
    train = make_toy(300, seed=2, split="train")
    assert train == make_toy(300, seed=2, split="train")
    assert train != make_toy(300, seed=3, split="train")
    keys = [{json.dumps(sorted(r["database"])) for r in rows}
            for rows in (train, make_toy(60, 2, "valid"), make_toy(60, 2, "test"))]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    assert {len(r["database"]) for r in train} == {1, 2, 3, 4}


def test_toy_references_mention_every_fact_and_baseline_is_weaker():
    train, test = make_toy(200, 0, "train"), make_toy(200, 0, "test")
    gold = [r["gold"] for r in test]
    for k in (0, 1):
        scores = slot_recall([g["texts"][k] for g in gold], gold)
        assert scores["slot_recall"] == 100.0 and scores["hallucination"] == 0.0
    base = baseline(train, test)
    assert slot_recall(base, gold)["slot_recall"] < 80
    assert bleu(base, gold)["bleu"] < 35 < bleu([r["tgt"] for r in test], gold)["bleu"]


def test_write_toy_round_trip(tmp_path):
    paths = write_toy(tmp_path, 15, seed=9)
    assert [p.name for p in paths] == ["dart-v1.1.1-full-train.json", "dart-v1.1.1-full-dev.json",
                                       "dart-v1.1.1-full-test.json"]
    for path, (split, size) in zip(paths, split_sizes(15).items()):
        assert load(path) == make_toy(size, 9, split)
