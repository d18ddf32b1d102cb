"""Natural-Instructions v2 data: the task-file loader, toy instruction families and the copy baseline.

A NIv2 task file is one JSON object: ``Definition`` (a list of strings), ``Positive Examples`` and
``Negative Examples`` (objects with ``input``, ``output``, ``explanation``) and ``Instances`` (objects with
``id``, ``input`` and a list ``output`` of acceptable answers). Each instance becomes a row, in OFASys's
layout::

    instruction  "Definition: <definition>"
    examples     "Positive Example 1 - Input: ... Output: ... Negative Example 1 - Input: ... Output: ..."
    src          "Now complete the following example - Input: <input> Output:"
    tgt          the first acceptable output
    answers      every acceptable output (the evaluation references)
    task         the task name (file stem)

When ``Definition`` holds several paraphrases (the toy files do; NIv2's hold one), an instance uses the one
picked by a CRC-32 of its id, so the choice is fixed and the same in every process.

Toy data (see :mod:`families`): one task file per family and split, ``<out>/<split>/toy_<family>.json``;
the held-out family appears in the test split only.
"""
from __future__ import annotations

import json
import re
import zlib
from pathlib import Path
from typing import Any, Iterable, Sequence

from polymodal.datasets import SPLITS, canonical_split, toy_split_sizes
from polymodal.errors import DataError
from polymodal_plugin_toyworld.splits import draw_split, stable_hash

from polymodal_task_natural_instructions.families import FAMILIES, HELD_OUT_FAMILY, Family

__all__ = ["load", "rows_from_task", "toy_task", "make_toy", "write_toy", "baseline", "split_sizes",
           "families_in"]

_TASK = "natural_instructions"
_INPUT_RE = re.compile(r"Input: (.*) Output:\s*$", re.S)
_EXAMPLES_PER_FAMILY = (2, 1)  # positive, negative examples written into each toy task file


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def _fail(reason: str, file: str, text: str = "", needle: str | None = None, column: str | None = None) -> DataError:
    line = _line_of(text, needle) if needle else None
    prefix = f"line {line}: " if line else ""
    return DataError(prefix + reason, task=_TASK, source=file, row=line, column=column)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _examples(task: dict[str, Any], key: str, word: str, limit: int, file: str, text: str) -> list[str]:
    items = task.get(key, [])
    if not isinstance(items, list):
        raise _fail(f"{key!r} must be a list", file, text, json.dumps(key), key)
    out = []
    for k, example in enumerate(items[:limit], start=1):
        if not isinstance(example, dict) or not isinstance(example.get("input"), str) \
                or not isinstance(example.get("output"), str):
            raise _fail(f"{key}[{k - 1}] needs string 'input' and 'output'", file, text, json.dumps(key), key)
        out.append(f"{word} Example {k} - Input: {example['input']} Output: {example['output']}")
    return out


def rows_from_task(task: dict[str, Any], name: str, *, pos_examples: int = 1, neg_examples: int = 1,
                   add_task_name: bool = False, source: str = "<memory>", text: str = ""
                   ) -> list[dict[str, Any]]:
    """Turn one parsed NIv2 task object into rows (see the module docstring for the columns).

    Args:
        task: the JSON object.
        name: the task name (file stem).
        pos_examples, neg_examples: how many positive/negative examples to show.
        add_task_name: prefix the instruction with ``"Task: <name>."``.
        source, text: the file and its text, to name lines in errors.

    Raises:
        DataError: for a missing or ill-typed field.
    """
    if not isinstance(task, dict):
        raise _fail("a task file holds one JSON object", source)
    definitions = task.get("Definition")
    if isinstance(definitions, str):
        definitions = [definitions]
    if not _strings(definitions):
        raise _fail("'Definition' must be a non-empty list of strings", source, text, '"Definition"', "Definition")
    instances = task.get("Instances")
    if not isinstance(instances, list):
        raise _fail("'Instances' must be a list", source, text, '"Instances"', "Instances")
    examples = " ".join(_examples(task, "Positive Examples", "Positive", pos_examples, source, text)
                        + _examples(task, "Negative Examples", "Negative", neg_examples, source, text))
    prefix = f"Task: {name}. " if add_task_name else ""
    rows = []
    for i, instance in enumerate(instances):
        ident = instance.get("id") if isinstance(instance, dict) else None
        needle = json.dumps(ident) if isinstance(ident, str) else None
        if not isinstance(instance, dict) or not isinstance(instance.get("input"), str):
            raise _fail(f"Instances[{i}] needs a string 'input'", source, text, needle, "input")
        outputs = instance.get("output")
        if isinstance(outputs, str):
            outputs = [outputs]
        if not _strings(outputs):
            raise _fail(f"Instances[{i}] needs 'output': a non-empty list of strings", source, text, needle,
                        "output")
        key = ident if isinstance(ident, str) else f"{name}-{i}"
        definition = definitions[zlib.crc32(key.encode("utf-8")) % len(definitions)]
        rows.append({
            "instruction": f"{prefix}Definition: {definition}",
            "examples": examples,
            "src": f"Now complete the following example - Input: {instance['input']} Output:",
            "tgt": outputs[0],
            "answers": list(outputs),
            "task": name,
        })
    return rows


def _task_names(tasks: str | Path | Iterable[str] | None, folder: Path) -> list[str] | None:
    if tasks is None:
        return None
    if isinstance(tasks, (str, Path)) and Path(tasks).is_file():
        return [line.strip() for line in Path(tasks).read_text(encoding="utf-8").splitlines() if line.strip()]
    if isinstance(tasks, str):
        raise DataError(f"task list {tasks!r} is not a file", task=_TASK, source=str(folder))
    return list(tasks)


def load(path: str | Path, *, pos_examples: int = 1, neg_examples: int = 1, add_task_name: bool = False,
         tasks: str | Path | Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Read NIv2 task files into rows.

    Args:
        path: one task ``.json`` file, or a folder of them (read in file-name order).
        pos_examples, neg_examples: how many positive/negative examples each row shows (OFASys's
            ``pos_example_num``/``neg_example_num``).
        add_task_name: prefix each instruction with the task name.
        tasks: with a folder, only these tasks: names, or a file listing one per line (NIv2's
            ``splits/default/test_tasks.txt``).

    Raises:
        DataError: naming the file and line of invalid JSON, a missing field or a missing listed task.
    """
    path = Path(path)
    if path.is_dir():
        names = _task_names(tasks, path)
        if names is None:
            files = sorted(path.glob("*.json"))
        else:
            files = [path / f"{name}.json" for name in names]
            missing = [f.name for f in files if not f.is_file()]
            if missing:
                raise DataError(f"listed tasks have no file: {', '.join(missing[:5])}", task=_TASK,
                                source=str(path))
    elif path.is_file():
        files = [path]
    else:
        raise DataError("no such file or folder", task=_TASK, source=str(path))
    rows: list[dict[str, Any]] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
            task = json.loads(text)
        except UnicodeDecodeError:
            raise DataError("not UTF-8 text", task=_TASK, source=str(file)) from None
        except json.JSONDecodeError as exc:
            raise DataError(f"line {exc.lineno}: invalid JSON ({exc.msg}, column {exc.colno})", task=_TASK,
                            source=str(file), row=exc.lineno) from None
        rows += rows_from_task(task, file.stem, pos_examples=pos_examples, neg_examples=neg_examples,
                               add_task_name=add_task_name, source=str(file), text=text)
    return rows


def families_in(split: str) -> list[str]:
    """The toy families of ``split``, in file-name order (the held-out one only in ``test``)."""
    split = canonical_split(split, _TASK)
    return sorted(f for f in FAMILIES if split == "test" or f != HELD_OUT_FAMILY)


def _instances(family: Family, n: int, seed: int, split: str) -> list[tuple[str, str]]:
    # The held-out family is all test: every instance key belongs to the test split.
    weights = (0.0, 0.0, 1.0) if family.name == HELD_OUT_FAMILY else (0.8, 0.1, 0.1)
    kwargs: dict[str, Any] = dict(key=lambda io: io[0], stream=f"ni.{family.name}", weights=weights)
    try:
        return draw_split(family.make, n, seed, split, **kwargs)
    except ValueError:  # a small family ran out of distinct inputs: repeat some rather than fail
        return draw_split(family.make, n, seed, split, unique=False, **kwargs)


def toy_task(family: Family, n: int, seed: int, split: str) -> dict[str, Any]:
    """The NIv2 task object of one toy family and split, with ``n`` instances.

    Its examples are the same in every split and come from training inputs, so no valid or test instance
    is shown as an example.
    """
    n_pos, n_neg = _EXAMPLES_PER_FAMILY
    pool = draw_split(family.make, n_pos + n_neg, seed, "train", key=lambda io: io[0],
                      stream=f"ni.examples.{family.name}")
    positive = [{"input": i, "output": o, "explanation": "The output follows the definition."}
                for i, o in pool[:n_pos]]
    negative = []
    for i, o in pool[n_pos:]:
        wrong = family.wrong(i, o)
        if wrong == o:
            wrong = i if i != o else f"{o} {o}"
        negative.append({"input": i, "output": wrong, "explanation": "The output does not follow the definition."})
    instances = [{"id": f"toy_{family.name}-{stable_hash(seed, split, i) % 16**12:012x}", "input": i, "output": [o]}
                 for i, o in _instances(family, n, seed, split)]
    return {
        "Contributors": ["polymodal toy world"],
        "Source": ["polymodal-plugin-toyworld"],
        "Categories": ["Toy"],
        "Definition": list(family.definitions),
        "Input_language": ["English"],
        "Output_language": ["English"],
        "Instruction_language": ["English"],
        "Positive Examples": positive,
        "Negative Examples": negative,
        "Instances": instances,
    }


def _toy_tasks(n: int, seed: int, split: str) -> list[tuple[str, dict[str, Any]]]:
    names = families_in(split)
    sizes = [n // len(names) + (1 if k < n % len(names) else 0) for k in range(len(names))]
    return [(f"toy_{name}", toy_task(FAMILIES[name], size, seed, split)) for name, size in zip(names, sizes)]


def make_toy(n: int, seed: int = 0, split: str = "train") -> list[dict[str, Any]]:
    """Draw ``n`` toy rows spread evenly over the split's families (grouped by family, in file order).

    Instances never repeat across splits; the held-out family (``last_word``) appears in ``test`` only.
    """
    split = canonical_split(split, _TASK)
    rows: list[dict[str, Any]] = []
    for name, task in _toy_tasks(n, seed, split):
        rows += rows_from_task(task, name)
    return rows


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write one NIv2 task file per family into ``<out_dir>/{train,valid,test}/`` (sizes from
    :func:`split_sizes`).

    Returns:
        The three split folders; ``load(folder)`` reads back exactly ``make_toy(size, seed, split)``.
    """
    paths = []
    for split in SPLITS:
        folder = Path(out_dir) / split
        folder.mkdir(parents=True, exist_ok=True)
        for name, task in _toy_tasks(split_sizes(n)[split], seed, split):
            (folder / f"{name}.json").write_text(json.dumps(task, indent=1) + "\n", encoding="utf-8")
        paths.append(folder)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """Copy the input: the instance's input text (recovered from ``src``) as the answer."""
    out = []
    for row in eval_rows:
        m = _INPUT_RE.search(str(row["src"]))
        out.append(m.group(1) if m else str(row["src"]))
    return out
