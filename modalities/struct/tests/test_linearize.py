"""Tests of the STRUCT linearisation formats."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from polymodal.errors import DataError
from polymodal_modality_struct.linearize import (as_grid, detect_kind, format_cell, linearize,
                                                 linearize_database, linearize_grid, linearize_table,
                                                 linearize_triples, schema_from_sqlite)


def test_table_forms_agree():
    rows = [["Ann", 31], ["Bo", None]]
    as_dict = linearize_table({"header": ["name", "age"], "rows": rows, "name": "People"})
    as_args = linearize_table(rows, header=["name", "age"], name="People")
    as_ofasys = linearize_table({"table_name": "People", "table_head": ["name", "age"], "table_content": rows})
    assert as_dict == as_args == as_ofasys
    assert as_dict.split(" || ") == ["People", "name : age | Ann : 31 | Bo :"]


def test_table_uncased_and_whitespace():
    text = linearize_table([["Big  Apple\n", "NY"]], uncased=True)
    assert text == "big apple : ny"


def test_separator_words_in_cells_are_escaped():
    text = linearize_table([["a | b", ":", "\\|"]])
    words = text.split()
    # exactly two unescaped separators (between the three cells), none from cell content
    assert words.count(":") == 2 and words.count("|") == 0
    assert "\\|" in words and "\\:" in words and "\\\\|" in words


def test_format_cell_numbers():
    assert format_cell(3.0) == "3"
    assert format_cell(0.1) == "0.1"
    assert format_cell(True) == "true"
    assert format_cell(None) == ""
    assert format_cell(b"caf\xc3\xa9") == "café"


def test_triples_format_and_errors():
    assert linearize_triples([("Ann", "born in", "Oslo"), ("Ann", "age", 31)]) == \
        "Ann : born in : Oslo | Ann : age : 31"
    with pytest.raises(DataError, match="triple 2"):
        linearize_triples([("a", "b", "c"), ("a", "b")])


def test_grid_forms():
    row = [5, 3, 0, 0, 7, 0, 0, 0, 0]
    grid = [row] + [[(r * 3 + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(1, 9)]
    text = linearize_grid(grid)
    assert text.split(" | ")[0] == "5 3 0 0 7 0 0 0 0"
    assert len(text.split()) == 81 + 8
    flat = "".join(str(v) for r in grid for v in r).replace("0", ".")
    assert as_grid(flat) == grid
    assert linearize_grid(grid, blank="_").startswith("5 3 _ _ 7")
    with pytest.raises(DataError, match="row 2"):
        as_grid([row, row[:8]] + [row] * 7)
    with pytest.raises(DataError, match="not a digit"):
        as_grid([["x"] * 9] * 9)


def _db() -> dict:
    return {"db_id": "shop", "question": "How many orders did Ann Lee place in Oslo?",
            "tables": {"customer": {"columns": ["id", "name", "city"],
                                    "rows": [[1, "Ann Lee", "Oslo"], [2, "Bo", "Rome"], [3, "Ann", "Oslo"]]},
                       "orders": {"columns": ["id", "customer_id", "total"], "rows": [[1, 1, 9.5]]}}}


def test_database_matched_values():
    text = linearize_database(_db())
    assert text == ("shop | customer : id , name ( Ann Lee , Ann ) , city ( Oslo ) | "
                    "orders : id , customer_id , total")
    assert linearize_database(_db(), values="none") == \
        "shop | customer : id , name , city | orders : id , customer_id , total"
    everything = linearize_database(_db(), values="all", max_values=2)
    assert "id ( 1 , 2 )" in everything and "city ( Oslo , Rome )" in everything
    assert linearize_database(_db(), uncased=True).startswith("shop | customer : id , name ( ann lee")


def test_database_from_sqlite_is_read_only(tmp_path):
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "my table" (id INTEGER, "odd ""name""" TEXT)')
    conn.execute('INSERT INTO "my table" VALUES (1, \'x\'), (2, \'y\')')
    conn.commit()
    conn.close()
    before = path.read_bytes()
    schema = schema_from_sqlite(path, max_rows=1)
    assert schema == {"db_id": "shop", "tables": {"my table": {"columns": ["id", 'odd "name"'],
                                                               "sql_types": ["INTEGER", "TEXT"],
                                                               "rows": [[1, "x"]]}}}
    assert linearize(path) == 'shop | my table : id , odd "name"'
    assert path.read_bytes() == before
    with pytest.raises(DataError, match="not found"):
        schema_from_sqlite(tmp_path / "missing.sqlite")


def test_detect_kind():
    assert detect_kind(_db()) == "database"
    assert detect_kind("x/y.sqlite") == "database"
    assert detect_kind([[1] * 9] * 9) == "grid"
    assert detect_kind("." * 81) == "grid"
    assert detect_kind([["a", "b", "c"]]) == "table"
    assert detect_kind({"rows": []}) == "table"
    with pytest.raises(DataError, match="cannot tell"):
        detect_kind(42)
    with pytest.raises(DataError, match="unknown structure kind"):
        linearize([], kind="graph")


def test_import_is_light():
    code = ("import sys, polymodal_modality_struct.linearize, polymodal_modality_struct.parse; "
            "bad = {'torch', 'numpy'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
