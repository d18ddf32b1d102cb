"""Toy table QA: small generated tables (and real iris rows) with questions whose answers are computed exactly.

Each example is one table of 4-6 rows and 4 columns (a key column, two numeric columns, one category column,
non-key columns in random order), so its linearisation is about 40-60 words, and one question from nine
families, drawn uniformly: lookup, count above a value, count of a category, argmax, argmin, max, min,
compare two rows, and sum. Questions whose answer would be ambiguous (ties for argmax/argmin/compare) are
dropped and drawn again. Cells are strings, as in FeTaQA's ``table_array``.

The iris table is the real measurement table bundled with scikit-learn (``sklearn/datasets/data/iris.csv``,
read as a file, without importing scikit-learn); it is used for a quarter of the tables when present.
"""
from __future__ import annotations

import csv
import importlib.util
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

__all__ = ["Theme", "THEMES", "make_table", "make_question", "iris_rows", "format_number"]

_NAMES = ("Ada", "Ben", "Cara", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kira", "Liam", "Mona",
          "Nils", "Olga", "Paul", "Rosa", "Sam", "Tara", "Ugo", "Vera", "Wes", "Yara", "Zane")
_CITIES = ("Oslo", "Lima", "Rome", "Kyiv", "Baku", "Doha", "Riga", "Bern", "Pune", "Nice")
_PRODUCTS = ("lamp", "kettle", "chair", "radio", "clock", "mirror", "basket", "blanket", "candle", "teapot",
             "ladder", "pillow", "helmet", "wallet", "jacket", "scarf", "bucket", "shovel", "violin", "drum")
_CATEGORIES = ("home", "garden", "music", "travel", "kitchen", "sport")
_TEAMS = ("Red Foxes", "Blue Owls", "Green Bears", "Gold Hawks", "Gray Wolves", "Black Cats", "White Swans",
          "Silver Eels", "Brown Bulls", "Pink Crabs", "Orange Lynx", "Purple Yaks")
_LEAGUES = ("north", "south", "east", "west")


@dataclass(frozen=True)
class Theme:
    """A kind of generated table.

    Args:
        title: the table's name.
        entity, entities: how questions call one row / several rows.
        key: the key column (unique per table).
        keys: candidate key values.
        numeric: ``(column, low, high)`` for the two integer columns.
        category: the category column and its candidate values.
    """

    title: str
    entity: str
    entities: str
    key: str
    keys: tuple[str, ...]
    numeric: tuple[tuple[str, int, int], ...]
    category: tuple[str, tuple[str, ...]]


THEMES = (
    Theme("club members", "member", "members", "name", _NAMES, (("age", 18, 70), ("score", 10, 99)),
          ("city", _CITIES)),
    Theme("shop inventory", "product", "products", "product", _PRODUCTS, (("price", 2, 90), ("stock", 0, 60)),
          ("category", _CATEGORIES)),
    Theme("league table", "team", "teams", "team", _TEAMS, (("wins", 0, 30), ("losses", 0, 30)),
          ("league", _LEAGUES)),
)
_IRIS = Theme("iris measurements", "sample", "samples", "sample", (), (("sepal length", 0, 0),
              ("petal length", 0, 0)), ("species", ("setosa", "versicolor", "virginica")))


@lru_cache(maxsize=1)
def iris_rows() -> tuple[tuple[str, str, str, str], ...]:
    """The 150 real iris rows as ``(sample id, sepal length, petal length, species)``; empty if unavailable."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return ()
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "iris.csv"
    if not path.is_file():
        return ()
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        species = next(reader)[2:]
        return tuple((f"s{i + 1}", row[0], row[2], species[int(row[4])]) for i, row in enumerate(reader))


def format_number(value: float) -> str:
    """Exact-looking text for a computed number: ``7.0`` -> ``7``, ``10.200000001`` -> ``10.2``."""
    value = round(value, 6)
    return str(int(value)) if value == int(value) else format(value, ".12g")


def make_table(rng: random.Random, use_iris: bool) -> tuple[Theme, dict]:
    """Draw a table: ``(theme, {"name", "header", "rows"})`` with string cells."""
    n = rng.randint(4, 6)
    if use_iris and iris_rows():
        theme = _IRIS
        rows = [list(r) for r in rng.sample(iris_rows(), n)]
        header = [theme.key, theme.numeric[0][0], theme.numeric[1][0], theme.category[0]]
    else:
        theme = rng.choice(THEMES)
        cats = rng.sample(theme.category[1], rng.randint(2, 3))
        header = [theme.key, theme.numeric[0][0], theme.numeric[1][0], theme.category[0]]
        (_, lo1, hi1), (_, lo2, hi2) = theme.numeric
        rows = [[key, str(rng.randint(lo1, hi1)), str(rng.randint(lo2, hi2)), rng.choice(cats)]
                for key in rng.sample(theme.keys, n)]
    order = [0] + rng.sample(range(1, 4), 3)  # the key column first, the rest shuffled
    return theme, {"name": theme.title, "header": [header[i] for i in order],
                   "rows": [[row[i] for i in order] for row in rows]}


Question = Callable[[random.Random, Theme, dict], "tuple[str, str] | None"]


def _column(table: dict, name: str) -> list[str]:
    i = table["header"].index(name)
    return [row[i] for row in table["rows"]]


def _numeric(rng: random.Random, theme: Theme, table: dict) -> tuple[str, list[float], list[str]]:
    col = rng.choice(theme.numeric)[0]
    return col, [float(v) for v in _column(table, col)], _column(table, theme.key)


def _lookup(rng, theme, table):
    col = rng.choice([c for c in table["header"] if c != theme.key])
    i = rng.randrange(len(table["rows"]))
    key = _column(table, theme.key)[i]
    form = rng.choice(("what is the {c} of {k}?", "what {c} does {k} have?", "tell me the {c} of {k}."))
    return form.format(c=col, k=key), _column(table, col)[i]


def _count_above(rng, theme, table):
    col, values, _ = _numeric(rng, theme, table)
    threshold = rng.choice(sorted(set(values))[:-1] or [None])
    if threshold is None:
        return None
    form = rng.choice(("how many {e} have a {c} above {v}?", "count the {e} whose {c} is more than {v}."))
    return form.format(e=theme.entities, c=col, v=format_number(threshold)), str(sum(v > threshold for v in values))


def _count_category(rng, theme, table):
    col = theme.category[0]
    value = rng.choice(_column(table, col))
    form = rng.choice(("how many {e} have {c} {v}?", "count the {e} whose {c} is {v}."))
    return form.format(e=theme.entities, c=col, v=value), str(_column(table, col).count(value))


def _extreme(rng, theme, table, highest: bool, arg: bool):
    col, values, keys = _numeric(rng, theme, table)
    best = max(values) if highest else min(values)
    word = rng.choice(("highest", "largest") if highest else ("lowest", "smallest"))
    if not arg:
        form = rng.choice(("what is the {w} {c}?", "what is the {w} {c} in the table?"))
        # the cell as written ("5.0", not "5"), so the answer is a copy from the table
        return form.format(w=word, c=col), _column(table, col)[values.index(best)]
    if values.count(best) > 1:
        return None
    form = rng.choice(("which {e} has the {w} {c}?", "name the {e} with the {w} {c}."))
    return form.format(e=theme.entity, w=word, c=col), keys[values.index(best)]


def _compare(rng, theme, table):
    col, values, keys = _numeric(rng, theme, table)
    i, j = rng.sample(range(len(keys)), 2)
    if values[i] == values[j]:
        return None
    higher = rng.random() < 0.5
    word = "higher" if higher else "lower"
    winner = i if (values[i] > values[j]) == higher else j
    form = rng.choice(("which {e} has a {w} {c}, {a} or {b}?", "between {a} and {b}, which has the {w} {c}?"))
    return form.format(e=theme.entity, w=word, c=col, a=keys[i], b=keys[j]), keys[winner]


def _sum(rng, theme, table):
    col, values, _ = _numeric(rng, theme, table)
    form = rng.choice(("what is the total {c} of all {e}?", "what do the {c} values of the {e} add up to?"))
    return form.format(c=col, e=theme.entities), format_number(sum(values))


FAMILIES: dict[str, Question] = {
    "lookup": _lookup,
    "count_above": _count_above,
    "count_category": _count_category,
    "argmax": lambda rng, th, t: _extreme(rng, th, t, True, True),
    "argmin": lambda rng, th, t: _extreme(rng, th, t, False, True),
    "max": lambda rng, th, t: _extreme(rng, th, t, True, False),
    "min": lambda rng, th, t: _extreme(rng, th, t, False, False),
    "compare": _compare,
    "sum": _sum,
}


def make_question(rng: random.Random, theme: Theme, table: dict) -> tuple[str, str, str] | None:
    """Draw a family uniformly and a question of it: ``(family, question, answer)``, or ``None`` on a tie."""
    family = rng.choice(sorted(FAMILIES))
    qa = FAMILIES[family](rng, theme, table)
    return None if qa is None else (family, qa[0], qa[1])
