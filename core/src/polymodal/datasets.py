"""Helpers that every task's data module shares: split names, toy split sizes and a line-aware JSON reader.

Task packages (``polymodal_task_<name>.data``) read a real dataset format and write a toy copy of it. They
all name their splits the same way, size their toy splits by the same rule and, where the format is one big
JSON array (Spider, DART), need to say on which line a bad entry sits. Those three pieces live here so the
rule is written once::

    from polymodal.datasets import canonical_split, iter_json_array, toy_split_sizes

    split = canonical_split("dev", task="my_task")          # "valid"
    sizes = toy_split_sizes(100)                            # {"train": 100, "valid": 20, "test": 20}
    for line, entry in iter_json_array("dev.json", task="my_task"):
        ...                                                 # DataError(row=line) for a bad entry

The module imports only the standard library and :mod:`polymodal.errors`, so a task's ``data.py`` stays light
to import.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from polymodal.errors import DataError

__all__ = ["SPLITS", "SPLIT_ALIASES", "toy_split_sizes", "canonical_split", "iter_json_array"]

#: The canonical split names, in order.
SPLITS: tuple[str, ...] = ("train", "valid", "test")

#: Every accepted spelling of a split (compared in lower case) -> its canonical name. Datasets name their
#: held-out split ``dev``, ``val`` or ``validation``; users type any of them.
SPLIT_ALIASES: dict[str, str] = {
    "train": "train", "training": "train",
    "valid": "valid", "validation": "valid", "val": "valid", "dev": "valid",
    "test": "test", "testing": "test",
}

# Each evaluation split of a toy set gets 1/_EVAL_FRACTION of the training rows (at least one row).
_EVAL_FRACTION = 5
_WHITESPACE = " \t\r\n"


def toy_split_sizes(n: int) -> dict[str, int]:
    """Rows per split of a toy set: ``n`` for train and a fifth of it (at least one) for valid and test.

    Args:
        n: the number of training rows.

    Returns:
        ``{"train": n, "valid": max(1, n // 5), "test": max(1, n // 5)}``, in :data:`SPLITS` order, so
        iterating it writes train, valid, test.
    """
    held_out = max(1, n // _EVAL_FRACTION)
    return {"train": n, "valid": held_out, "test": held_out}


def canonical_split(split: str, task: str | None = None) -> str:
    """Return ``"train"``, ``"valid"`` or ``"test"`` for a split name or one of its aliases.

    Aliases (see :data:`SPLIT_ALIASES`) are matched in any case: ``dev``, ``val`` and ``validation`` mean
    ``valid``; ``training`` and ``testing`` mean ``train`` and ``test``.

    Args:
        split: the split name as given by the user or a dataset.
        task: the task asking, named in the error.

    Returns:
        The canonical split name.

    Raises:
        DataError: for a name that is no split (or not a string); it names the task and the accepted names.
    """
    canonical = SPLIT_ALIASES.get(split.lower()) if isinstance(split, str) else None
    if canonical is None:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)} "
                        f"(or dev, val, validation, training, testing)", task=task)
    return canonical


def _read_text(path: Path, task: str | None) -> str:
    source = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", task=task, source=source) from None
    except UnicodeDecodeError as exc:
        # report the line of the first bad byte, like every other error of a file reader
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"line {line}: not UTF-8 text", task=task, source=source, row=line) from None


class _Lines:
    """1-based line numbers of positions in ``text`` that only move forward.

    Counting newlines from the start for every element would make reading a large array (Spider's train set,
    DART) quadratic; each call here counts only the newlines since the previous one.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def at(self, pos: int) -> int:
        if pos < self.pos:  # not expected from the reader below, but stay correct if it happens
            return self.text.count("\n", 0, pos) + 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def iter_json_array(path: str | Path, *, task: str | None = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, element)`` for each element of the top-level JSON array in a file.

    ``line`` is the 1-based line on which the element starts, so a caller that finds an element malformed
    can raise ``DataError(..., source=str(path), row=line)``. The file is read on the first ``next()``;
    elements are decoded one at a time, so a caller that stops early does not decode the rest.

    Args:
        path: the JSON file (UTF-8).
        task: the task reading it, named in errors.

    Yields:
        ``(line, element)`` pairs, in file order.

    Raises:
        DataError: the file cannot be read or is not UTF-8, it does not hold a JSON array, or its JSON is
            malformed (including text after the closing ``]``). The error carries ``task``,
            ``source=str(path)`` and ``row`` = the 1-based line of the problem, and its message starts with
            ``line <row>:``.
    """
    path = Path(path)
    source = str(path)
    text = _read_text(path, task)
    lines = _Lines(text)
    decoder = json.JSONDecoder()

    def fail(reason: str, line: int) -> DataError:
        return DataError(f"line {line}: {reason}", task=task, source=source, row=line)

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        return pos

    pos = skip(0)
    if pos >= len(text) or text[pos] != "[":
        raise fail("expected a JSON array", lines.at(pos))
    pos = skip(pos + 1)
    if pos < len(text) and text[pos] == "]":
        end = pos + 1
    else:
        while True:
            try:
                element, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                # exc.lineno counts from the start of the text, not from pos
                raise fail(f"invalid JSON: {exc.msg}", exc.lineno) from None
            yield lines.at(pos), element
            pos = skip(end)
            if pos < len(text) and text[pos] == ",":
                pos = skip(pos + 1)
            elif pos < len(text) and text[pos] == "]":
                end = pos + 1
                break
            else:
                raise fail("invalid JSON: expected ',' or ']' after an array element", lines.at(pos))
    end = skip(end)
    if end < len(text):
        raise fail("invalid JSON: extra data after the closing ']'", lines.at(end))
