"""Summarization data: loader on Gigaword-format fixtures, toy generator, round trip and Lead-1."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from polymodal.errors import DataError
from polymodal_plugin_toyworld.events import parse_summary
from polymodal_task_summarization.data import baseline, load, make_toy, split_sizes, target_path, write_toy

FIXTURES = Path(__file__).parent / "fixtures"


def test_loader_reads_gigaword_pairs_exactly():
    assert load(FIXTURES / "gigaword" / "test.src") == [
        {"src": "australia 's current account deficit shrunk by a record #.## billion dollars -lrb- #.## billion "
                "us -rrb- in the june quarter due to soaring commodity prices , figures released monday showed .",
         "tgt": "australian current account deficit narrows sharply"},
        {"src": "at least two people were killed in a suspected bomb attack on a passenger bus in the strife-torn "
                "southern philippines on monday , the military said .",
         "tgt": "at least two dead in southern philippines blast"},
    ]
    assert load(FIXTURES / "gigaword", split="test") == load(FIXTURES / "gigaword" / "test.src")


def test_article_title_files_and_normalization():
    raw = load(FIXTURES / "sumdata" / "train.article.txt")
    assert raw[0] == {"src": "the <unk> company said on tuesday it would cut ### jobs .",
                      "tgt": "<unk> to cut ### jobs"}
    assert load(FIXTURES / "sumdata", split="train", normalize=True) == [
        {"src": "the unk company said on tuesday it would cut ### jobs .", "tgt": "unk to cut ### jobs"},
        {"src": "unk shares rose #.# percent in early trading .", "tgt": "unk shares up"},
    ]


def test_target_path_patterns():
    assert target_path(Path("a/train.src.txt")) == Path("a/train.tgt.txt")
    assert target_path(Path("valid.source")) == Path("valid.target")
    with pytest.raises(DataError, match="cannot tell"):
        target_path(Path("train.txt"))


def test_files_of_different_length_name_the_short_file_and_line():
    with pytest.raises(DataError) as info:
        load(FIXTURES / "malformed" / "short.src")
    assert info.value.row == 3 and info.value.source.endswith("short.tgt")
    assert "line 3" in str(info.value)


def test_empty_line_names_file_line_and_column():
    with pytest.raises(DataError) as info:
        load(FIXTURES / "malformed" / "blank.src.txt")
    assert info.value.row == 2 and info.value.column == "src"
    assert "blank.src.txt" in str(info.value)


def test_folder_without_split_or_source_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="split="):
        load(FIXTURES / "gigaword")
    with pytest.raises(DataError, match="no valid source"):
        load(tmp_path, split="valid")


def test_toy_is_deterministic_disjoint_and_well_formed():
    splits = {s: make_toy(150, 2, s) for s in ("train", "valid", "test")}
    assert make_toy(150, 2, "train") == splits["train"]
    for a, b in itertools.combinations(splits, 2):
        assert not {r["tgt"] for r in splits[a]} & {r["tgt"] for r in splits[b]}
        assert not {r["src"] for r in splits[a]} & {r["src"] for r in splits[b]}
    for row in splits["train"]:
        slots = parse_summary(row["tgt"])
        assert slots is not None
        sentences = [s for s in row["src"].split(" . ") if s]
        assert 5 <= len(sentences) <= 8
        assert slots["who"] in row["src"] and slots["place"] in row["src"]
        assert slots["count"] not in row["src"].split()  # the article spells the count in words


def test_key_sentence_position_varies_so_lead_1_is_weak():
    rows = make_toy(300, 0, "test")
    predictions = baseline([], rows)
    first_is_key = sum(parse_summary(r["tgt"])["verb"] in p.split() for p, r in zip(predictions, rows))
    assert 0.05 < first_is_key / len(rows) < 0.35
    # Lead-1 never matches a summary exactly (counts are digits in summaries, words in articles)
    assert not any(p == r["tgt"] for p, r in zip(predictions, rows))
    # unigram recall of Lead-1 against the reference stays low
    recall = [len(set(p.split()) & set(r["tgt"].split())) / len(set(r["tgt"].split()))
              for p, r in zip(predictions, rows)]
    assert sum(recall) / len(recall) < 0.5


def test_lead_1_takes_the_first_sentence():
    assert baseline([], [{"src": "one two three . four five ."}, {"src": "single line"}]) == ["one two three",
                                                                                             "single line"]


def test_write_toy_then_load_round_trips(tmp_path):
    paths = write_toy(tmp_path, 25, 4)
    assert [p.name for p in paths] == ["train.src", "valid.src", "test.src"]
    for path, split in zip(paths, ("train", "valid", "test")):
        assert target_path(path).is_file()
        assert load(path) == make_toy(split_sizes(25)[split], 4, split)
    assert re.fullmatch(r"[a-z0-9 ]+", load(paths[0])[0]["tgt"])
