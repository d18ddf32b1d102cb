from __future__ import annotations

import json
import subprocess
import sys

import pytest

from polymodal.datasets import SPLITS, canonical_split, iter_json_array, toy_split_sizes
from polymodal.errors import DataError


@pytest.mark.parametrize("n, held_out", [(1, 1), (4, 1), (5, 1), (9, 1), (10, 2), (24, 4), (25, 5), (1000, 200)])
def test_toy_split_sizes(n, held_out):
    sizes = toy_split_sizes(n)
    assert sizes == {"train": n, "valid": held_out, "test": held_out}
    assert tuple(sizes) == SPLITS == ("train", "valid", "test")


@pytest.mark.parametrize("alias, expected", [
    ("train", "train"), ("training", "train"), ("TRAIN", "train"),
    ("valid", "valid"), ("dev", "valid"), ("validation", "valid"), ("val", "valid"), ("Dev", "valid"),
    ("test", "test"), ("testing", "test"),
])
def test_canonical_split_aliases(alias, expected):
    assert canonical_split(alias) == expected
    assert canonical_split(alias, task="t") == expected


@pytest.mark.parametrize("bad", ["holdout", "", "testA", "trains", None, 3])
def test_unknown_split_names_the_task(bad):
    with pytest.raises(DataError, match="unknown split") as info:
        canonical_split(bad, task="sudoku")
    assert info.value.task == "sudoku" and str(info.value).startswith("task 'sudoku': ")
    assert "train, valid, test" in str(info.value)
    # a DataError is a ValueError, so callers that caught the old ValueError still do
    assert isinstance(info.value, ValueError)


def test_unknown_split_without_task():
    with pytest.raises(DataError) as info:
        canonical_split("holdout")
    assert info.value.task is None and str(info.value).startswith("unknown split 'holdout'")


def _write(tmp_path, text, name="data.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_elements_come_with_their_start_lines(tmp_path):
    # line 1: "[", line 2: {"a": 1},  lines 3-5: a three-line object, line 6 blank, line 7: "x" and 8 on one
    # line, line 8: "]"
    text = '[\n{"a": 1},\n{"b":\n  [1,\n   2]},\n\n"x", 8\n]\n'
    path = _write(tmp_path, text)
    assert list(iter_json_array(path)) == [(2, {"a": 1}), (3, {"b": [1, 2]}), (7, "x"), (7, 8)]
    # the elements are exactly what json.loads reads
    assert [e for _, e in iter_json_array(str(path))] == json.loads(text)


def test_first_element_on_the_bracket_line_and_crlf(tmp_path):
    path = tmp_path / "crlf.json"
    path.write_bytes(b'[{"a": 1},\r\n {"a": 2},\r\n\r\n {"a": 3}]')
    assert [line for line, _ in iter_json_array(path)] == [1, 2, 4]


@pytest.mark.parametrize("text", ["[]", "  [ \n ]\n", "\n\n[\n]"])
def test_empty_array(tmp_path, text):
    assert list(iter_json_array(_write(tmp_path, text))) == []


@pytest.mark.parametrize("text, line, reason", [
    # the object that starts on line 2 breaks on line 4
    ('[\n{"a": 1,\n "b": 2,\n "c": }\n]', 4, "invalid JSON"),
    # a missing comma between the elements on lines 2 and 3: the second one's line
    ('[\n{"a": 1}\n{"a": 2}\n]', 3, "expected ',' or ']'"),
    # an unclosed array: the end of the text, after the newline of line 2
    ('[\n1,\n', 3, "invalid JSON"),
    ('[\n1\n', 3, "expected ',' or ']'"),
    # not an array at all, the first non-blank character on line 3
    ('\n\n{"a": 1}', 3, "expected a JSON array"),
    ("", 1, "expected a JSON array"),
    # a trailing comma before ']' on line 3
    ('[\n1,\n]', 3, "invalid JSON"),
    # text after the closing bracket
    ('[\n1\n]\n\n]', 5, "extra data"),
])
def test_malformed_json_names_file_and_line(tmp_path, text, line, reason):
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=reason) as info:
        list(iter_json_array(path, task="demo"))
    error = info.value
    assert (error.row, error.source, error.task) == (line, str(path), "demo")
    assert f"line {line}:" in str(error) and str(path) in str(error)


def test_elements_before_the_error_are_yielded(tmp_path):
    path = _write(tmp_path, '[\n{"ok": 1},\n{"ok": 2},\n{"bad" 3}\n]')
    seen = []
    with pytest.raises(DataError) as info:
        for line, element in iter_json_array(path):
            seen.append((line, element))
    assert seen == [(2, {"ok": 1}), (3, {"ok": 2})] and info.value.row == 4


def test_unreadable_files(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(DataError, match="cannot read file") as info:
        list(iter_json_array(missing, task="demo"))
    assert info.value.source == str(missing) and info.value.task == "demo"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'[\n"ok",\n"caf\xe9"\n]')
    with pytest.raises(DataError, match="not UTF-8") as info:
        list(iter_json_array(latin))
    assert info.value.row == 3


def test_module_is_import_light():
    code = ("import sys, polymodal.datasets; "
            "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
