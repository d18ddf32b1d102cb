"""Tests of the Spider loader, the toy databases and questions, the writer and the baseline."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest

from polymodal.errors import DataError
from polymodal_modality_struct.linearize import linearize
from polymodal_task_text_to_sql.data import baseline, load, make_toy, split_sizes, write_toy
from polymodal_task_text_to_sql.evaluate import execution_accuracy
from polymodal_task_text_to_sql.sqlexec import open_database, run_query
from polymodal_task_text_to_sql.toy import TEMPLATES

SINGER = {"columns": ["Singer_ID", "Name", "Country", "Age"], "types": ["number", "text", "text", "number"],
          "sql_types": ["INT", "TEXT", "TEXT", "INT"],
          "rows": [[1, "Mara Quill", "Norway", 34], [2, "Tobias Fenn", "Chile", 52], [3, "Ilse Varga", "Norway", 27]]}
CONCERT = {"columns": ["concert_ID", "concert_Name", "Year", "Singer_ID"],
           "types": ["number", "text", "text", "number"],
           "sql_types": ["INT", "TEXT", "TEXT", "INT"],
           "rows": [[1, "Harbour Lights", "2019", 1], [2, "Winter Echo", "2021", 3], [3, "Salt Road", "2021", 1]]}


def test_fixture_rows(spider_dir):
    rows = load(spider_dir / "train_spider.json")
    question = "How many singers are from Norway?"
    db = {"db_id": "music_club", "tables": {"singer": SINGER, "concert": CONCERT}, "question": question}
    assert rows[0] == {"src": question, "database": db, "tgt": "SELECT count(*) FROM singer WHERE Country = 'Norway'",
                       "gold": {"query": "SELECT count(*) FROM singer WHERE Country = 'Norway'", "database": db}}
    assert rows[1]["tgt"].endswith('WHERE T1.Name = "Mara Quill"')
    assert rows[1]["database"]["question"] == "Which concerts did Mara Quill give?"
    assert rows[0]["database"]["tables"] is rows[1]["database"]["tables"]  # one copy per database
    # the fixture's own gold queries execute to the expected results
    assert execution_accuracy([r["tgt"] for r in rows], [r["gold"] for r in rows])["execution_accuracy"] == 100.0
    assert "Name ( Mara Quill )" in linearize(rows[1]["database"])


def test_database_without_file_keeps_its_schema(spider_dir):
    dev = load(spider_dir / "dev.json")
    assert dev[1]["database"] == {"db_id": "ferry_line", "question": "List all destinations.",
                                  "tables": {"route": {"columns": ["id", "destination"], "types": ["number", "text"]}}}
    schema_only = load(spider_dir / "dev.json", content=False)[0]["database"]["tables"]["singer"]
    assert schema_only == {"columns": SINGER["columns"], "types": SINGER["types"]}
    assert load(spider_dir / "dev.json", max_rows=1)[0]["database"]["tables"]["singer"]["rows"] == [SINGER["rows"][0]]


def _entries(spider_dir, change):
    entries = json.loads((spider_dir / "dev.json").read_text())
    change(entries)
    text = "[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]"
    (spider_dir / "dev.json").write_text(text)


@pytest.mark.parametrize("change, message", [
    (lambda e: e[1].pop("question"), "missing or non-string field 'question'"),
    (lambda e: e[1].update(db_id="nowhere"), "'nowhere' is not in tables.json"),
    (lambda e: e.__setitem__(1, ["not", "an", "object"]), "must be a JSON object"),
])
def test_malformed_entry_names_file_and_line(spider_dir, change, message):
    _entries(spider_dir, change)
    with pytest.raises(DataError, match=message) as info:
        load(spider_dir / "dev.json")
    assert info.value.row == 3 and info.value.source.endswith("dev.json") and "line 3" in str(info.value)


def test_invalid_json_and_bad_schema(spider_dir):
    (spider_dir / "dev.json").write_text('[\n{"db_id": "music_club",\n "question": }\n]')
    with pytest.raises(DataError, match="invalid JSON") as info:
        load(spider_dir / "dev.json")
    assert info.value.row == 3
    tables = json.loads((spider_dir / "tables.json").read_text())
    tables[1]["column_names_original"][1] = [5, "id"]
    (spider_dir / "tables.json").write_text(json.dumps(tables, indent=1))
    with pytest.raises(DataError, match="malformed schema") as info:
        load(spider_dir / "train_spider.json")
    assert info.value.source.endswith("tables.json")


def test_missing_column_in_database(spider_dir):
    tables = json.loads((spider_dir / "tables.json").read_text())
    tables[0]["column_names_original"][2] = [0, "Nickname"]
    (spider_dir / "tables.json").write_text(json.dumps(tables))
    with pytest.raises(DataError, match="Nickname"):
        load(spider_dir / "train_spider.json")


def test_toy_is_deterministic_and_split_by_database():
    train = make_toy(120, seed=1, split="train")
    assert train == make_toy(120, seed=1, split="train")
    assert train != make_toy(120, seed=2, split="train")
    dbs = [{r["database"]["db_id"] for r in rows}
           for rows in (train, make_toy(40, 1, "valid"), make_toy(40, 1, "test"))]
    assert not (dbs[0] & dbs[1] or dbs[0] & dbs[2] or dbs[1] & dbs[2])
    assert len(dbs[0]) >= 120 // 8


def _pattern(template_sql: str) -> re.Pattern[str]:
    text = re.escape(template_sql)
    for slot in ("E", "D", "P"):
        text = text.replace(re.escape("{" + slot + "}"), r"\w+")
    return re.compile(text.replace(re.escape("{v}"), r"[\w ]+"))


def test_toy_queries_have_unambiguous_non_empty_answers():
    rows = make_toy(400, seed=0, split="train")
    families = set()
    connections = {}
    for row in rows:
        db = row["database"]
        conn = connections.setdefault(db["db_id"], open_database(db))
        result = run_query(conn, row["tgt"])
        assert result and not all(v is None for r in result for v in r)
        if "LIMIT 1" in row["tgt"]:  # the top row is unique: LIMIT 2 keeps a different second key
            assert len(run_query(conn, row["tgt"].replace("LIMIT 1", "LIMIT 2"))) <= 2
        families.update(t.family for t in TEMPLATES if _pattern(t.sql).fullmatch(row["tgt"]))
        assert 25 <= len(linearize(db).split()) <= 120
    assert len(families) >= 20
    names = {tuple(sorted(r["database"]["tables"])) for r in rows}
    assert len(names) > 1  # table names vary between databases


def test_baseline_is_low():
    train, test = make_toy(400, 0, "train"), make_toy(100, 0, "test")
    preds = baseline(train, test)
    assert len(set(preds)) == 1
    assert execution_accuracy(preds, [r["gold"] for r in test])["execution_accuracy"] < 10


def test_write_toy_round_trip(tmp_path):
    paths = write_toy(tmp_path, 20, seed=3)
    assert [p.name for p in paths] == ["train_spider.json", "dev.json", "test.json"]
    for path, (split, size) in zip(paths, split_sizes(20).items()):
        assert load(path) == make_toy(size, 3, split)
    db_id = make_toy(1, 3, "test")[0]["database"]["db_id"]
    conn = sqlite3.connect(tmp_path / "database" / db_id / f"{db_id}.sqlite")
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone() == (3,)
    conn.close()
