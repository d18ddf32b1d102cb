"""GLUE data: the TSV loader of every subtask, toy data in the same format, and the majority baseline.

The loader reads the files of the official GLUE download (``<GLUE>/<Folder>/{train,dev,test}.tsv``; MNLI's
``dev_matched.tsv``...). Files are tab-separated without quoting (sentences may hold quote characters). CoLA's
train/dev files have no header (``source, label, original label, sentence``); every other file has one, and
its columns are found by name. A test file without labels gives rows without ``label``.

Usage::

    rows = load("glue_data/SST-2/dev.tsv")                 # subtask from the folder name
    rows = load("glue_data/MNLI", split="valid")           # dev_matched.tsv
    rows = make_toy(100, seed=0, split="train", subtask="mnli")
    paths = write_toy("out", n=1000, seed=0)               # out/SST-2/{train,dev,test}.tsv
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

from polymodal.datasets import canonical_split, toy_split_sizes
from polymodal.errors import DataError

from polymodal_task_glue.subtasks import DEFAULT_SUBTASK, SUBTASKS, Subtask, get_subtask
from polymodal_task_glue.toy import TOY_SUBTASKS, make_subtask_rows

__all__ = ["load", "make_toy", "write_toy", "baseline", "closed_set"]

_TASK = "glue"


def _resolve(path: Path, subtask: str | None, split: str | None) -> tuple[Path, Subtask]:
    folder = path if path.is_dir() else path.parent
    if subtask is not None:
        spec = get_subtask(subtask)
    else:
        try:
            spec = get_subtask(folder.name)
        except KeyError:
            raise DataError(f"cannot tell the GLUE subtask from the folder name {folder.name!r}; pass "
                            f"subtask= (one of {', '.join(SUBTASKS)})", task=_TASK, source=str(path)) from None
    if path.is_dir():
        if split is None:
            raise DataError("a GLUE folder needs split= (train, valid or test)", task=_TASK, source=str(path))
        key = split if split in spec.files else canonical_split(split, _TASK)
        path = path / spec.files[key]
    if not path.is_file():
        raise DataError("no such file", task=_TASK, source=str(path))
    return path, spec


def load(path: str | Path, subtask: str | None = None, split: str | None = None, *,
         skip_malformed: bool = False) -> list[dict[str, str]]:
    """Read one GLUE TSV file into rows keyed by the subtask's columns and ``label``.

    Args:
        path: a ``.tsv`` file, or a subtask folder together with ``split``.
        subtask: ``"sst2"``, ``"mnli"``...; by default the folder name tells (``SST-2``, ``MNLI``...).
        split: with a folder: ``train``, ``valid`` or ``test`` (MNLI also ``valid_mismatched``,
            ``test_mismatched``).
        skip_malformed: skip lines with the wrong number of fields (real QQP has a few) instead of failing.

    Returns:
        Rows such as ``{"sentence": ..., "label": "positive"}`` or ``{"sent1": ..., "sent2": ...,
        "label": "entailment"}``; no ``label`` key when the file has no label column.

    Raises:
        DataError: naming the file and 1-based line of a malformed line or an unknown label.
    """
    file, spec = _resolve(Path(path), subtask, split)
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", task=_TASK,
                        source=str(file)) from None
    if not lines:
        return []
    first = lines[0].split("\t")
    if spec.headerless and first[0] != "index":
        header: list[str] | None = None
        text_idx = [3]
        label_idx: int | None = 1
        width = 4
        body = enumerate(lines, start=1)
    else:
        header = first
        text_idx = [_column(header, name, file) for name in spec.fields]
        label_idx = next((header.index(f) for f in spec.label_fields if f in header), None)
        width = len(header)
        body = enumerate(lines[1:], start=2)
    rows: list[dict[str, str]] = []
    for lineno, line in body:
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != width:
            if skip_malformed:
                continue
            raise DataError(f"line {lineno}: expected {width} tab-separated fields, found {len(fields)}",
                            task=_TASK, source=str(file), row=lineno)
        row = {col: fields[i].strip() for col, i in zip(spec.columns, text_idx)}
        if label_idx is not None:
            word = spec.label_word(fields[label_idx])
            if word is None:
                raise DataError(f"line {lineno}: unknown {spec.name} label {fields[label_idx]!r}",
                                task=_TASK, source=str(file), row=lineno, column="label")
            row["label"] = word
        rows.append(row)
    return rows


def _column(header: Sequence[str], name: str, file: Path) -> int:
    if name not in header:
        raise DataError(f"line 1: header has no column {name!r} (found: {', '.join(header)})", task=_TASK,
                        source=str(file), row=1, column=name)
    return header.index(name)


def make_toy(n: int, seed: int = 0, split: str = "train", subtask: str = DEFAULT_SUBTASK
             ) -> list[dict[str, str]]:
    """Draw ``n`` toy rows (see :mod:`polymodal_task_glue.toy`); splits are disjoint.

    Args:
        n: number of rows.
        seed: fixes the rows.
        split: ``train``, ``valid`` or ``test``.
        subtask: one of :data:`~polymodal_task_glue.toy.TOY_SUBTASKS` (default: SST-2-style sentiment).
    """
    return make_subtask_rows(get_subtask(subtask).name, n, seed, canonical_split(split, _TASK))


def _header(spec: Subtask) -> list[str]:
    if spec.name == "mnli":
        return ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
                "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "label1", "gold_label"]
    if spec.name == "stsb":
        return ["index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1",
                "sentence2", "score"]
    if spec.name == "sst2":
        return ["sentence", "label"]
    return ["index", *spec.fields, "label"]


def _line(spec: Subtask, i: int, row: dict[str, str]) -> list[str]:
    raw = spec.raw_label(row["label"])
    texts = [row[c] for c in spec.columns]
    if spec.name == "cola":
        return ["toy", raw, "*" if raw == "0" else "", texts[0]]
    if spec.name == "mnli":
        return [str(i), str(i), f"{i}e", "toy", "", "", "", "", *texts, raw, raw]
    if spec.name == "stsb":
        return [str(i), "toy", "toy", "2024", str(i), "toy", "toy", *texts, raw]
    if spec.name == "sst2":
        return [*texts, raw]
    return [str(i), *texts, raw]


def write_toy(out_dir: str | Path, n: int, seed: int = 0, subtasks: Iterable[str] = (DEFAULT_SUBTASK,)
              ) -> list[Path]:
    """Write toy train/valid/test files in the GLUE layout and format; :func:`load` reads them back.

    Test files carry labels (in the train-file format), unlike GLUE's own test files.

    Args:
        out_dir: the GLUE root; files go to ``<out_dir>/<Folder>/``.
        n: training rows; valid and test get ``max(1, n // 5)`` each.
        seed: fixes the data.
        subtasks: which toy subtasks to write (default SST-2 only).

    Returns:
        The paths written: for each subtask its train, valid and test file, in that order.
    """
    paths: list[Path] = []
    for name in subtasks:
        spec = get_subtask(name)
        if spec.name not in TOY_SUBTASKS:
            raise ValueError(f"no toy generator for {spec.name}; toys exist for {', '.join(TOY_SUBTASKS)}")
        folder = Path(out_dir) / spec.folder
        folder.mkdir(parents=True, exist_ok=True)
        for split, size in toy_split_sizes(n).items():
            rows = make_toy(size, seed, split, spec.name)
            lines = [] if spec.headerless else ["\t".join(_header(spec))]
            lines += ["\t".join(_line(spec, i, row)) for i, row in enumerate(rows)]
            path = folder / spec.files[split]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            paths.append(path)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """The majority-class baseline: the most frequent training label for every row (ties: first seen)."""
    counts = Counter(str(r["label"]) for r in train_rows if "label" in r)
    if not counts:
        raise DataError("the majority baseline needs labelled training rows", task=_TASK, column="label")
    majority = counts.most_common(1)[0][0]
    return [majority] * len(eval_rows)


def closed_set(subtask: str = DEFAULT_SUBTASK) -> list[str]:
    """The label words of ``subtask`` (the decoder's closed set)."""
    return list(get_subtask(subtask).closed_set)


# Per-subtask entry points for the subtask task specs (``task.SUBTASK_SPECS``): a spec names a function, so
# each toy subtask gets a pair of thin wrappers.
def make_toy_mnli(n: int, seed: int = 0, split: str = "train") -> list[dict[str, str]]:
    """Toy MNLI rows (see :func:`make_toy`)."""
    return make_toy(n, seed, split, "mnli")


def write_toy_mnli(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Toy MNLI files (see :func:`write_toy`)."""
    return write_toy(out_dir, n, seed, ("mnli",))


def make_toy_rte(n: int, seed: int = 0, split: str = "train") -> list[dict[str, str]]:
    """Toy RTE rows (see :func:`make_toy`)."""
    return make_toy(n, seed, split, "rte")


def write_toy_rte(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Toy RTE files (see :func:`write_toy`)."""
    return write_toy(out_dir, n, seed, ("rte",))


def make_toy_cola(n: int, seed: int = 0, split: str = "train") -> list[dict[str, str]]:
    """Toy CoLA rows (see :func:`make_toy`)."""
    return make_toy(n, seed, split, "cola")


def write_toy_cola(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Toy CoLA files (see :func:`write_toy`)."""
    return write_toy(out_dir, n, seed, ("cola",))


def make_toy_stsb(n: int, seed: int = 0, split: str = "train") -> list[dict[str, str]]:
    """Toy STS-B rows (see :func:`make_toy`)."""
    return make_toy(n, seed, split, "stsb")


def write_toy_stsb(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Toy STS-B files (see :func:`write_toy`)."""
    return write_toy(out_dir, n, seed, ("stsb",))
