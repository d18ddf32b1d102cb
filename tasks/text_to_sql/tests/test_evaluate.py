"""Hand cases for the text-to-SQL metrics, including untrusted SQL that must neither harm nor hang."""
from __future__ import annotations

import hashlib
import sqlite3
import time

import pytest

from polymodal.testing.contracts import EvaluatorContract

from polymodal_task_text_to_sql.evaluate import exact_match, execution_accuracy, normalize_sql
from polymodal_task_text_to_sql.sqlexec import QueryError, open_database, run_query

HOSTILE = [
    "DROP TABLE singer",
    "UPDATE singer SET Age = 0",
    "DELETE FROM singer",
    "INSERT INTO singer VALUES (9, 'x', 'y', 1)",
    "ATTACH DATABASE 'evil.db' AS evil",
    "SELECT 1; DROP TABLE singer",
    "PRAGMA writable_schema = 1",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    "SELECT count(*) FROM " + ", ".join(f"singer AS s{i}" for i in range(24)),  # 3**24 rows to count
    "WITH x AS (SELECT 1) DELETE FROM singer",
    "SELECT load_extension('evil')",
    "CREATE TABLE t (a)",
]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM singer WHERE Country = 'Norway'",
    "select COUNT(*) from singer where country='Norway';",
    'SELECT count(Name) FROM singer WHERE "Country" = "Norway"',
    "SELECT 2.0",
])
def test_equivalent_queries_execute_equal(spider_dir, sql):
    db = spider_dir / "database" / "music_club" / "music_club.sqlite"
    gold = {"query": "SELECT count(*) FROM singer WHERE Country = 'Norway'", "database": str(db)}
    assert execution_accuracy([sql], [gold])["execution_accuracy"] == 100.0


def test_results_compare_as_multisets(spider_dir):
    db = str(spider_dir / "database" / "music_club" / "music_club.sqlite")
    gold = {"query": "SELECT Name FROM singer WHERE Country = 'Norway'", "database": db}
    preds = ["SELECT Name FROM singer WHERE Country = 'Norway' ORDER BY Age",  # same rows, other order
             "SELECT Name FROM singer",                                         # a superset
             "SELECT Name FROM singer WHERE Country = 'Norway' UNION ALL SELECT 'Mara Quill'",  # a duplicate
             "SELECT Nme FROM singer"]                                          # an error
    scores = execution_accuracy(preds, [gold] * 4)
    assert scores["execution_accuracy"] == 25.0 and scores["invalid"] == 25.0
    avg = {"query": "SELECT avg(Age) FROM singer", "database": db}
    assert execution_accuracy(["SELECT 113.0 / 3"], [avg])["execution_accuracy"] == 100.0
    assert execution_accuracy(["SELECT 37.6"], [avg])["execution_accuracy"] == 0.0


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_scores_zero_quickly_and_leaves_the_file_alone(spider_dir, sql, monkeypatch):
    monkeypatch.chdir(spider_dir)
    db = spider_dir / "database" / "music_club" / "music_club.sqlite"
    before = _digest(db)
    gold = {"query": "SELECT count(*) FROM singer", "database": str(db)}
    start = time.monotonic()
    scores = execution_accuracy([sql, "SELECT count(*) FROM singer"], [gold, gold], timeout_s=0.3)
    assert time.monotonic() - start < 3.0
    assert scores["execution_accuracy"] == 50.0 and scores["invalid"] == 50.0
    assert _digest(db) == before
    assert not (spider_dir / "evil.db").exists()


@pytest.mark.parametrize("sql", HOSTILE[:4] + HOSTILE[7:8])
def test_hostile_sql_cannot_change_an_in_memory_database(sql):
    db = {"db_id": "d", "tables": {"singer": {"columns": ["Singer_ID", "Name", "Country", "Age"],
                                              "rows": [[1, "A", "N", 30], [2, "B", "C", 40]]}}}
    gold = {"query": "SELECT count(*) FROM singer", "database": db}
    scores = execution_accuracy([sql, "SELECT count(*) FROM singer", "SELECT 2"], [gold] * 3, timeout_s=0.3)
    assert scores["execution_accuracy"] == pytest.approx(200 / 3)
    assert db["tables"]["singer"]["rows"] == [[1, "A", "N", 30], [2, "B", "C", 40]]


def test_run_query_limits():
    conn = open_database({"tables": {"t": {"columns": ["a"], "rows": [[i] for i in range(50)]}}})
    with pytest.raises(QueryError, match="more than 10"):
        run_query(conn, "SELECT a FROM t", max_rows=10)
    with pytest.raises(QueryError, match="timed out"):
        run_query(conn, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
                  timeout_s=0.1)
    assert run_query(conn, "  select count(*) from t ; ") == [(50,)]
    assert run_query(conn, "SELECT ';' || 'x'") == [(";x",)]


@pytest.mark.parametrize("sql", ["ATTACH DATABASE 'evil.db' AS evil", "DROP TABLE singer",
                                 "PRAGMA query_only = OFF", "WITH x AS (SELECT 1) DELETE FROM singer"])
def test_connection_denies_writes_even_without_run_query(spider_dir, sql, monkeypatch):
    # defence in depth: the authorizer and read-only mode stop what the statement check would have caught
    monkeypatch.chdir(spider_dir)
    db = spider_dir / "database" / "music_club" / "music_club.sqlite"
    before = _digest(db)
    conn = open_database(db)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(sql)
    assert conn.execute("SELECT count(*) FROM singer").fetchone() == (3,)
    conn.close()
    assert _digest(db) == before and not (spider_dir / "evil.db").exists()


def test_unscored_and_gold_errors(spider_dir):
    schema_only = {"db_id": "x", "tables": {"t": {"columns": ["a"]}}}
    db = str(spider_dir / "database" / "music_club" / "music_club.sqlite")
    scores = execution_accuracy(["SELECT 1", "SELECT 1", "SELECT 1"],
                                [{"query": "SELECT 1", "database": schema_only},
                                 {"query": "SELECT nothing FROM nowhere", "database": db},
                                 [{"query": "SELECT 2", "database": db}, {"query": "SELECT 1", "database": db}]])
    assert scores == {"execution_accuracy": 50.0, "invalid": 0.0, "gold_errors": 1.0, "unscored": 1.0}
    with pytest.raises(ValueError, match="needs references"):
        execution_accuracy(["SELECT 1"], ["SELECT 1"])


@pytest.mark.parametrize("a, b, same", [
    ("SELECT count(*) FROM singer WHERE age>30;", "select COUNT ( * ) from SINGER where AGE > 30", True),
    ('SELECT name FROM t WHERE x = "Ann"', "SELECT name FROM t WHERE x = 'Ann'", True),
    ("SELECT name FROM t WHERE x = 'Ann'", "SELECT name FROM t WHERE x = 'ann'", False),
    ("SELECT T1.name FROM t AS T1", "select t1 . name from t as t1", True),
    ("SELECT name FROM t WHERE a >= 3", "SELECT name FROM t WHERE a > = 3", False),
    ("SELECT name FROM t", "SELECT title FROM t", False),
])
def test_normalize_sql(a, b, same):
    assert (normalize_sql(a) == normalize_sql(b)) is same


def test_exact_match_reference_forms():
    gold = {"query": "SELECT a FROM t", "database": {}}
    assert exact_match(["select a from t", "SELECT b FROM t", "SELECT a FROM t"],
                       [gold, "SELECT b FROM t;", ["SELECT x FROM t", gold]]) == {"exact_match": 100.0}
    assert exact_match(["SELECT a FROM t"], ["SELECT b FROM t"]) == {"exact_match": 0.0}


_DB = {"db_id": "d", "tables": {"t": {"columns": ["a"], "rows": [[1], [2]]}}}


class TestExecutionAccuracyContract(EvaluatorContract):
    name = "text_to_sql.execution_accuracy"
    perfect = (["SELECT a FROM t ORDER BY a DESC"], [{"query": "SELECT a FROM t", "database": _DB}])
    poor = (["SELECT a FROM t WHERE a > 1"], [{"query": "SELECT a FROM t", "database": _DB}])


class TestExactMatchContract(EvaluatorContract):
    name = "text_to_sql.exact_match"
    perfect = (["select a from t"], ["SELECT a FROM t"])
    poor = (["SELECT b FROM t"], ["SELECT a FROM t"])
