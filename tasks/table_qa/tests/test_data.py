"""Tests of the FeTaQA loader, the toy tables, the writer and the baseline."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from polymodal.errors import DataError
from polymodal_modality_struct.linearize import linearize
from polymodal_task_table_qa.data import baseline, load, make_toy, split_sizes, write_toy
from polymodal_task_table_qa.evaluate import denotation_accuracy
from polymodal_task_table_qa.toy import iris_rows

FIXTURE = Path(__file__).parent / "fixtures" / "fetaQA-v1_dev.jsonl"


def test_fixture_rows():
    assert load(FIXTURE) == [
        {"table": {"name": "Example Harbour Rowing Club - Results", "header": ["Year", "Event", "Place"],
                   "rows": [["2019", "Spring Regatta", "2nd"], ["2021", "Autumn Cup", "1st"]]},
         "src": "How did the club do in the 2021 Autumn Cup?",
         "tgt": "The club won the Autumn Cup in 2021, placing 1st."},
        {"table": {"name": "Sample Valley Railway", "header": ["Station", "Opened"], "rows": [["North Halt", "1901"]]},
         "src": "When did North Halt open?", "tgt": "North Halt opened in 1901."},
    ]
    assert len(load(FIXTURE, limit=1)) == 1


@pytest.mark.parametrize("bad, message", [
    ("{not json", "invalid JSON"),
    ('{"table_array": [["a"]], "question": "q"}', "missing field 'answer'"),
    ('{"table_array": [], "question": "q", "answer": "a"}', "non-empty list"),
    ('{"table_array": [["a", {"x": 1}]], "question": "q", "answer": "a"}', "cells must be strings"),
    ('[1, 2]', "JSON object"),
])
def test_malformed_line_is_named(tmp_path, bad, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(FIXTURE.read_text().splitlines()[0] + "\n\n" + bad + "\n")
    with pytest.raises(DataError, match=message) as info:
        load(path)
    assert info.value.row == 3 and info.value.source == str(path) and "line 3" in str(info.value)


def test_toy_is_deterministic_and_split_disjoint():
    train = make_toy(200, seed=1, split="train")
    assert train == make_toy(200, seed=1, split="train")
    assert train != make_toy(200, seed=2, split="train")
    valid, test = make_toy(50, 1, "valid"), make_toy(50, 1, "test")
    tables = [{json.dumps(r["table"], sort_keys=True) for r in rows} for rows in (train, valid, test)]
    assert not (tables[0] & tables[1] or tables[0] & tables[2] or tables[1] & tables[2])


def _number(text: str) -> float:
    return float(text)


def test_toy_answers_are_correct():
    # recompute the answer of every question family from the table, independently of the generator
    rows = make_toy(300, seed=0, split="train")
    checked = set()
    for row in rows:
        table, q, a = row["table"], row["src"], row["tgt"]
        columns = {h: [r[i] for r in table["rows"]] for i, h in enumerate(table["header"])}
        keys = columns[table["header"][0]]
        if q.startswith("what is the total"):
            col = next(c for c in table["header"] if f"total {c} of" in q)
            assert _number(a) == pytest.approx(sum(map(_number, columns[col])))
            checked.add("sum")
        elif " or " in q and q.startswith("which"):
            a_key, b_key = q[:-1].split(", ")[1].split(" or ")
            col = next(c for c in table["header"] if f" {c}," in q)
            va, vb = (_number(columns[col][keys.index(k)]) for k in (a_key, b_key))
            assert a == (a_key if (va > vb) == (" higher " in q) else b_key)
            checked.add("compare")
        elif q.startswith(("which", "name the")) and ("has the" in q or "with the" in q):
            col = next(c for c in table["header"] if q.rstrip("?.").endswith(" " + c))
            values = list(map(_number, columns[col]))
            best = max(values) if ("highest" in q or "largest" in q) else min(values)
            assert values.count(best) == 1 and a == keys[values.index(best)]
            checked.add("arg")
        elif " above " in q or " more than " in q:
            col = next(c for c in table["header"] if f" {c} " in q)
            threshold = _number(q.rstrip("?.").split()[-1])
            assert int(a) == sum(_number(v) > threshold for v in columns[col]) >= 1
            checked.add("count")
        elif q.startswith("what is the") and q.endswith(f" of {keys[0]}?") or " does " in q:
            key = next(k for k in keys if f" {k} " in q or q.endswith(f" {k}?"))
            col = next(c for c in table["header"] if q.startswith((f"what is the {c} of", f"what {c} does")))
            assert a == columns[col][keys.index(key)]
            checked.add("lookup")
    assert checked == {"sum", "compare", "arg", "count", "lookup"}


def test_toy_inputs_are_short_and_baseline_is_low():
    train, test = make_toy(600, 0, "train"), make_toy(200, 0, "test")
    lengths = [len(linearize(r["table"]).split()) for r in train]
    assert 30 <= min(lengths) and max(lengths) <= 120
    score = denotation_accuracy(baseline(train, test), [r["tgt"] for r in test])["denotation_accuracy"]
    assert score < 15
    if iris_rows():
        assert any(r["table"]["name"] == "iris measurements" for r in train)
        assert not any(r["table"]["name"] == "iris measurements" for r in make_toy(50, 0, "train", real_tables=False))


def test_write_toy_round_trip(tmp_path):
    paths = write_toy(tmp_path, 20, seed=4)
    assert [p.name for p in paths] == ["fetaQA-v1_train.jsonl", "fetaQA-v1_dev.jsonl", "fetaQA-v1_test.jsonl"]
    for path, (split, size) in zip(paths, split_sizes(20).items()):
        assert load(path) == make_toy(size, 4, split)
