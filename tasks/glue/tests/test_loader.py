"""The GLUE TSV loader on fixtures in the real format of every subtask."""
from __future__ import annotations

from pathlib import Path

import pytest

from polymodal.errors import DataError
from polymodal_task_glue.data import load

FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED = {
    "CoLA/train.tsv": [
        {"sentence": "The cat sat on the mat.", "label": "yes"},
        {"sentence": "Cat the on sat mat the.", "label": "no"},
        {"sentence": 'She "quoted" him.', "label": "yes"},
    ],
    "CoLA/test.tsv": [{"sentence": "Bill left early."}, {"sentence": "Left Bill early the."}],
    "SST-2/dev.tsv": [
        {"sentence": "a gorgeous , witty film .", "label": "positive"},
        {"sentence": "it 's a dull , plodding mess .", "label": "negative"},
        {"sentence": '"the" best part is the ending', "label": "positive"},
    ],
    "SST-2/test.tsv": [{"sentence": "an uneven but moving film ."}],
    "MRPC/train.tsv": [
        {"sent1": "He said the plan would work.", "sent2": "The plan would work, he said.", "label": "yes"},
        {"sent1": "Shares rose 5 percent on Monday.", "sent2": "The company hired a new chief.", "label": "no"},
    ],
    "STS-B/dev.tsv": [
        {"sent1": "A man is playing a flute.", "sent2": "A man plays the flute.", "label": "4.8"},
        {"sent1": "Rain expected on Friday.", "sent2": "Markets close higher.", "label": "0.2"},
    ],
    "QQP/train.tsv": [
        {"sent1": "How do I learn Python?", "sent2": "What is the best way to learn Python?", "label": "yes"},
        {"sent1": "Why is the sky blue?", "sent2": "How tall is Everest?", "label": "no"},
    ],
    "MNLI/dev_matched.tsv": [
        {"sent1": "The new rights are nice enough", "sent2": "Everyone really likes the newest benefits",
         "label": "neutral"},
        {"sent1": "This site includes a list of all award winners.", "sent2": "The site has no list of winners.",
         "label": "contradiction"},
    ],
    "MNLI/test_matched.tsv": [{"sent1": "Cats sleep a lot.", "sent2": "Cats are often asleep."}],
    "QNLI/dev.tsv": [
        {"sent1": "What colour is the sky?", "sent2": "The sky is blue on a clear day.", "label": "yes"},
        {"sent1": "Who wrote Hamlet?", "sent2": "Paris is in France.", "label": "no"},
    ],
    "RTE/train.tsv": [
        {"sent1": "Dana bought a red car in May.", "sent2": "Dana owns a car.", "label": "yes"},
        {"sent1": "The meeting was cancelled.", "sent2": "The meeting took place.", "label": "no"},
    ],
    "WNLI/train.tsv": [
        {"sent1": "The trophy did not fit in the case because it was too big.", "sent2": "The trophy was too big.",
         "label": "yes"},
        {"sent1": "The trophy did not fit in the case because it was too big.", "sent2": "The case was too big.",
         "label": "no"},
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loader_reads_each_subtask_fixture_exactly(name):
    assert load(FIXTURES / name) == EXPECTED[name]


def test_folder_and_split_select_the_file():
    assert load(FIXTURES / "MNLI", split="valid") == EXPECTED["MNLI/dev_matched.tsv"]
    assert load(FIXTURES / "SST-2", split="dev") == EXPECTED["SST-2/dev.tsv"]
    assert load(FIXTURES / "MNLI" / "dev_matched.tsv", split="ignored for files") == \
        EXPECTED["MNLI/dev_matched.tsv"]


def test_a_subtask_given_explicitly_applies_its_label_map():
    with pytest.raises(DataError, match="unknown wnli label 'entailment'"):
        load(FIXTURES / "RTE" / "train.tsv", subtask="wnli")


def test_malformed_line_names_file_and_line():
    bad = FIXTURES / "malformed" / "SST-2" / "train.tsv"
    with pytest.raises(DataError) as info:
        load(bad)
    assert info.value.row == 3
    assert "line 3" in str(info.value) and str(bad) in str(info.value)
    assert load(bad, skip_malformed=True) == [{"sentence": "a fine film .", "label": "positive"},
                                              {"sentence": "ok .", "label": "negative"}]


def test_unknown_label_names_line_and_column():
    with pytest.raises(DataError) as info:
        load(FIXTURES / "malformed" / "RTE" / "dev.tsv")
    assert info.value.row == 3 and info.value.column == "label"
    assert "'maybe'" in str(info.value)


def test_unknown_folder_or_missing_split_is_a_data_error(tmp_path):
    odd = tmp_path / "mystery" / "train.tsv"
    odd.parent.mkdir()
    odd.write_text("sentence\tlabel\nx\t1\n")
    with pytest.raises(DataError, match="subtask="):
        load(odd)
    assert load(odd, subtask="SST-2") == [{"sentence": "x", "label": "positive"}]
    with pytest.raises(DataError, match="split="):
        load(FIXTURES / "MNLI")
    with pytest.raises(DataError, match="no such file"):
        load(FIXTURES / "QQP", split="test")


def test_non_utf8_file_is_a_data_error(tmp_path):
    path = tmp_path / "SST-2" / "train.tsv"
    path.parent.mkdir()
    path.write_bytes(b"sentence\tlabel\ncaf\xe9\t1\n")
    with pytest.raises(DataError, match="not UTF-8"):
        load(path)
