"""Text-infilling data: a loader for any text corpus, toy sentences of the world grammar, and the baseline.

The model reads the text with whole-word spans masked (the slot attribute ``mask_ratio=0.3``: BART-style,
span lengths drawn from Poisson(3), each masked word replaced by one mask) and writes the complete text.

Corpora: a ``.txt`` file with one sentence or paragraph per line (blank lines skipped), or a ``.jsonl`` file
with one JSON object per line holding the text in a field (``text`` by default).

Baseline: the model only sees masked input, so the trivial answer is the masked input with every hidden
word replaced by the most frequent English word, ``"the"``. At evaluation the preprocessor masks each text by a
pattern drawn from the text itself, so :func:`baseline` hides exactly the words the model did not see; scored by
``text_infilling.masked_word_accuracy`` it gets the share of hidden words that are "the".
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import SPLITS, canonical_split, toy_split_sizes
from polymodal.errors import DataError
from polymodal_plugin_toyworld.grammar import corpus, real_sentences
from polymodal_modality_text.preprocess import normalize_text

from polymodal_task_text_infilling.evaluate import hidden_words

__all__ = ["load", "make_toy", "write_toy", "baseline", "split_sizes"]

_TASK = "text_infilling"
_SUFFIXES = (".txt", ".jsonl")
_FILL = "the"


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("no such file", task=_TASK, source=str(path)) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"line {line}: not UTF-8 text", task=_TASK, source=str(path), row=line) from None
    return text.splitlines()


def _resolve(path: Path, split: str | None) -> Path:
    if not path.is_dir():
        return path
    if split is None:
        raise DataError("a corpus folder needs split= (train, valid or test)", task=_TASK, source=str(path))
    for suffix in _SUFFIXES:
        candidate = path / f"{canonical_split(split, _TASK)}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataError(f"no {split}.txt or {split}.jsonl in this folder", task=_TASK, source=str(path))


def load(path: str | Path, split: str | None = None, *, text_field: str = "text", fmt: str | None = None
         ) -> list[dict[str, str]]:
    """Read a corpus into ``{"text": ...}`` rows.

    Args:
        path: a ``.txt`` or ``.jsonl`` file, or a folder together with ``split`` (``<split>.txt``...).
        split: with a folder: ``train``, ``valid`` or ``test``.
        text_field: the JSONL field holding the text.
        fmt: ``"txt"`` or ``"jsonl"``; by default the file suffix decides (anything but ``.jsonl`` is text).

    Raises:
        DataError: naming the file and 1-based line of undecodable text, invalid JSON, or a JSON line
            without a non-empty string ``text_field``.
    """
    file = _resolve(Path(path), split)
    kind = fmt or ("jsonl" if file.suffix == ".jsonl" else "txt")
    if kind not in ("txt", "jsonl"):
        raise DataError(f"unknown corpus format {fmt!r}; expected txt or jsonl", task=_TASK, source=str(file))
    rows = []
    for lineno, line in enumerate(_lines(file), start=1):
        if not line.strip():
            continue
        if kind == "txt":
            rows.append({"text": line.strip()})
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {lineno}: invalid JSON ({exc.msg})", task=_TASK, source=str(file),
                            row=lineno) from None
        value = record.get(text_field) if isinstance(record, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"line {lineno}: no non-empty string field {text_field!r}", task=_TASK,
                            source=str(file), row=lineno, column=text_field)
        rows.append({"text": value.strip()})
    return rows


def make_toy(n: int, seed: int = 0, split: str = "train", *, real: bool = False) -> list[dict[str, str]]:
    """Draw ``n`` distinct toy sentences; no sentence occurs in two splits.

    Args:
        n: number of rows.
        seed: fixes the rows.
        split: ``train``, ``valid`` or ``test``.
        real: mix in real sentences (WordNet glosses, fortunes) when the system has them. Off by default:
            the data would then depend on the machine.
    """
    split = canonical_split(split, _TASK)
    extra = real_sentences(limit=20_000, max_words=20) if real else ()
    return [{"text": s} for s in corpus(n, seed, split, stream="text_infilling", extra=extra)]


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write ``{train,valid,test}.txt`` (one sentence a line; sizes from :func:`split_sizes`).

    Returns:
        The three files; :func:`load` reads each back as ``make_toy(size, seed, split)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split in SPLITS:
        path = out / f"{split}.txt"
        path.write_text("".join(r["text"] + "\n" for r in make_toy(split_sizes(n)[split], seed, split)),
                        encoding="utf-8")
        paths.append(path)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]], *, ratio: float = 0.3
             ) -> list[str]:
    """The evaluation input with every hidden word replaced by ``"the"`` (see the module docstring)."""
    out = []
    for row in eval_rows:
        words = normalize_text(str(row["text"])).split()
        flags = hidden_words(str(row["text"]), ratio)
        out.append(" ".join(_FILL if m else w for w, m in zip(words, flags)))
    return out
