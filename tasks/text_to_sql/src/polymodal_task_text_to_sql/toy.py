"""Toy text-to-SQL: small random company databases and questions from 23 templates with paraphrases.

Each database has a department, an employee and a project table (3-4 departments, 6-9 employees, 3-5
projects). Table names vary between databases (``employee``/``staff``, ``department``/``division``,
``project``/``program``) while questions always say "employees", "department", "projects", so a model must
read the schema to write the query. Every template has a slot filled from the database's content (a
department, an employee, a city, a project title or a threshold), families cover count-where, list-where,
lookup, join, argmax/argmin, average, max, sum and group-by-top, and a question is kept only when its query
returns a non-empty, non-NULL result and, for ``ORDER BY ... LIMIT 1`` queries, when the top row is not tied.
"""
from __future__ import annotations

import random
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from .sqlexec import QueryError, run_query

__all__ = ["Template", "TEMPLATES", "make_database", "make_question"]

_FIRST = ("Ada", "Ben", "Cara", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kira", "Liam", "Mona",
          "Nils", "Olga", "Paul", "Rosa", "Sam", "Tara", "Ugo", "Vera", "Wes", "Yara", "Zane", "Alma", "Bruno",
          "Cleo", "Dora", "Emil", "Fay", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lena")
_DEPTS = ("Sales", "Research", "Marketing", "Finance", "Legal", "Support", "Design", "Logistics", "Training",
          "Security")
_CITIES = ("Oslo", "Lima", "Rome", "Kyiv", "Baku", "Doha", "Riga", "Bern")
_TITLES = ("Apollo", "Zephyr", "Falcon", "Nimbus", "Orion", "Cobalt", "Juniper", "Mosaic", "Quartz", "Tundra",
           "Beacon", "Harbor", "Summit", "Willow", "Ember", "Lotus")
#: role -> the table names a database may use for it
TABLE_NAMES = {"D": ("department", "division"), "E": ("employee", "staff"), "P": ("project", "program")}
#: role -> (column, Spider type, SQL type)
COLUMNS = {
    "D": (("dept_id", "number", "INTEGER"), ("name", "text", "TEXT"), ("city", "text", "TEXT"),
          ("budget", "number", "INTEGER")),
    "E": (("emp_id", "number", "INTEGER"), ("name", "text", "TEXT"), ("age", "number", "INTEGER"),
          ("salary", "number", "INTEGER"), ("dept_id", "number", "INTEGER")),
    "P": (("proj_id", "number", "INTEGER"), ("title", "text", "TEXT"), ("dept_id", "number", "INTEGER"),
          ("hours", "number", "INTEGER")),
}
_JOIN_ED = "FROM {E} AS T1 JOIN {D} AS T2 ON T1.dept_id = T2.dept_id"
_JOIN_PD = "FROM {P} AS T1 JOIN {D} AS T2 ON T1.dept_id = T2.dept_id"


@dataclass(frozen=True)
class Template:
    """A question family: paraphrases, the SQL, the slot kind, and the ORDER BY key to check for ties.

    Placeholders: ``{E}``, ``{D}``, ``{P}`` are the table names; ``{v}`` is the slot value.
    """

    family: str
    questions: tuple[str, ...]
    sql: str
    slot: str  # d: department, p: employee, c: city, t: project, age/salary/hours: a threshold
    order_key: str | None = None


TEMPLATES = (
    Template("count_older", ("how many employees are older than {v}?", "count the employees older than {v}.",
                             "what is the number of employees above the age of {v}?"),
             "SELECT count(*) FROM {E} WHERE age > {v}", "age"),
    Template("count_low_salary", ("how many employees earn less than {v}?",
                                  "count the employees with a salary below {v}."),
             "SELECT count(*) FROM {E} WHERE salary < {v}", "salary"),
    Template("count_in_dept", ("how many employees work in the {v} department?",
                               "count the employees of the {v} department."),
             f"SELECT count(*) {_JOIN_ED} WHERE T2.name = '{{v}}'", "d"),
    Template("list_older", ("list the names of employees older than {v}.", "which employees are older than {v}?"),
             "SELECT name FROM {E} WHERE age > {v}", "age"),
    Template("list_high_salary", ("which employees earn more than {v}?",
                                  "give the names of employees with a salary above {v}."),
             "SELECT name FROM {E} WHERE salary > {v}", "salary"),
    Template("list_in_dept", ("who works in the {v} department?", "list the employees of the {v} department."),
             f"SELECT T1.name {_JOIN_ED} WHERE T2.name = '{{v}}'", "d"),
    Template("age_of", ("how old is {v}?", "what is the age of {v}?"),
             "SELECT age FROM {E} WHERE name = '{v}'", "p"),
    Template("salary_of", ("what is the salary of {v}?", "how much does {v} earn?"),
             "SELECT salary FROM {E} WHERE name = '{v}'", "p"),
    Template("dept_of", ("which department does {v} work in?", "what is the department of {v}?"),
             f"SELECT T2.name {_JOIN_ED} WHERE T1.name = '{{v}}'", "p"),
    Template("city_of_dept", ("in which city is the {v} department?", "where is the {v} department located?"),
             "SELECT city FROM {D} WHERE name = '{v}'", "d"),
    Template("oldest_in_dept", ("who is the oldest employee in the {v} department?",
                                "name the oldest employee of the {v} department."),
             f"SELECT T1.name {_JOIN_ED} WHERE T2.name = '{{v}}' ORDER BY T1.age DESC LIMIT 1", "d", "T1.age"),
    Template("top_earner_older", ("who earns the most among employees older than {v}?",
                                  "which employee older than {v} has the highest salary?"),
             "SELECT name FROM {E} WHERE age > {v} ORDER BY salary DESC LIMIT 1", "age", "salary"),
    Template("youngest_rich", ("who is the youngest employee earning more than {v}?",
                               "name the youngest employee with a salary above {v}."),
             "SELECT name FROM {E} WHERE salary > {v} ORDER BY age ASC LIMIT 1", "salary", "age"),
    Template("avg_salary_dept", ("what is the average salary in the {v} department?",
                                 "what is the mean salary of employees of the {v} department?"),
             f"SELECT avg(T1.salary) {_JOIN_ED} WHERE T2.name = '{{v}}'", "d"),
    Template("avg_age_rich", ("what is the average age of employees earning more than {v}?",
                              "what is the mean age of employees with a salary above {v}?"),
             "SELECT avg(age) FROM {E} WHERE salary > {v}", "salary"),
    Template("max_salary_young", ("what is the highest salary among employees younger than {v}?",
                                  "what is the top salary of employees under {v}?"),
             "SELECT max(salary) FROM {E} WHERE age < {v}", "age"),
    Template("top_dept_rich", ("which department has the most employees earning more than {v}?",
                               "what department has the largest number of employees with a salary above {v}?"),
             f"SELECT T2.name {_JOIN_ED} WHERE T1.salary > {{v}} GROUP BY T2.name ORDER BY count(*) DESC LIMIT 1",
             "salary", "count(*)"),
    Template("top_dept_old", ("which department has the most employees older than {v}?",
                              "what department has the largest number of employees above the age of {v}?"),
             f"SELECT T2.name {_JOIN_ED} WHERE T1.age > {{v}} GROUP BY T2.name ORDER BY count(*) DESC LIMIT 1",
             "age", "count(*)"),
    Template("projects_of_dept", ("list the projects of the {v} department.",
                                  "what are the titles of the projects of the {v} department?"),
             f"SELECT T1.title {_JOIN_PD} WHERE T2.name = '{{v}}'", "d"),
    Template("count_long_projects", ("how many projects take more than {v} hours?",
                                     "count the projects longer than {v} hours."),
             "SELECT count(*) FROM {P} WHERE hours > {v}", "hours"),
    Template("hours_of_dept", ("how many hours do the projects of the {v} department take in total?",
                               "what is the total number of project hours of the {v} department?"),
             f"SELECT sum(T1.hours) {_JOIN_PD} WHERE T2.name = '{{v}}'", "d"),
    Template("budget_of_city", ("what is the total budget of the departments in {v}?",
                                "how much budget do the departments located in {v} have in total?"),
             "SELECT sum(budget) FROM {D} WHERE city = '{v}'", "c"),
    Template("dept_of_project", ("which department runs the {v} project?", "what department is the {v} project in?"),
             f"SELECT T2.name {_JOIN_PD} WHERE T1.title = '{{v}}'", "t"),
)


def make_database(rng: random.Random, db_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Draw a company database.

    Returns:
        ``(database dict, role -> table name)``; the dict has, per table, ``columns``, Spider ``types``,
        ``sql_types`` and ``rows``.
    """
    roles = {role: rng.choice(names) for role, names in TABLE_NAMES.items()}
    depts = rng.sample(_DEPTS, rng.randint(3, 4))
    content = {
        "D": [[i + 1, name, rng.choice(_CITIES), rng.randrange(100, 1000, 10)] for i, name in enumerate(depts)],
        "E": [[i + 1, name, rng.randint(21, 65), rng.randrange(30, 155, 5), rng.randint(1, len(depts))]
              for i, name in enumerate(rng.sample(_FIRST, rng.randint(6, 9)))],
        "P": [[i + 1, title, rng.randint(1, len(depts)), rng.randrange(20, 520, 20)]
              for i, title in enumerate(rng.sample(_TITLES, rng.randint(3, 5)))],
    }
    tables = {roles[role]: {"columns": [c[0] for c in COLUMNS[role]], "types": [c[1] for c in COLUMNS[role]],
                            "sql_types": [c[2] for c in COLUMNS[role]], "rows": content[role]}
              for role in ("D", "E", "P")}
    return {"db_id": db_id, "tables": tables}, roles


def _slot(rng: random.Random, kind: str, db: dict[str, Any], roles: dict[str, str]) -> str:
    def column(role: str, name: str) -> list[Any]:
        table = db["tables"][roles[role]]
        i = table["columns"].index(name)
        return [row[i] for row in table["rows"]]

    if kind == "d":
        return rng.choice(column("D", "name"))
    if kind == "p":
        return rng.choice(column("E", "name"))
    if kind == "c":
        return rng.choice(column("D", "city"))
    if kind == "t":
        return rng.choice(column("P", "title"))
    if kind == "age":
        return str(rng.choice(column("E", "age")) - rng.randint(0, 2))
    if kind == "salary":
        return str(rng.choice(column("E", "salary")) - rng.choice((0, 5)))
    return str(rng.choice(column("P", "hours")) - rng.choice((0, 10)))


def _tied(conn: sqlite3.Connection, sql: str, key: str) -> bool:
    probe = re.sub(r"^SELECT .*? FROM ", f"SELECT {key} FROM ", sql).replace(" LIMIT 1", " LIMIT 2")
    top = run_query(conn, probe)
    return len(top) == 2 and top[0] == top[1]


def make_question(rng: random.Random, db: dict[str, Any], roles: dict[str, str],
                  conn: sqlite3.Connection) -> tuple[str, str, str] | None:
    """Draw a template uniformly and fill it from the database.

    Returns:
        ``(family, question, sql)``, or ``None`` when the query's result is empty, NULL or tied.
    """
    template = rng.choice(TEMPLATES)
    value = _slot(rng, template.slot, db, roles)
    sql = template.sql.format(v=value, **roles)
    try:
        rows = run_query(conn, sql)
        if not rows or all(v is None for row in rows for v in row):
            return None
        if template.order_key and _tied(conn, sql, template.order_key):
            return None
    except QueryError:  # pragma: no cover - the templates are valid SQL
        return None
    return template.family, rng.choice(template.questions).format(v=value), sql
