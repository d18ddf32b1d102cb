"""Gigaword-style summarization data: the parallel-file loader, toy event articles and the Lead-1 baseline.

The real format is a pair of parallel plain-text files, one article per line and its summary on the same line
of the target file: ``train.src``/``train.tgt``, ``train.src.txt``/``train.tgt.txt`` or the original
``train.article.txt``/``train.title.txt``. Gigaword's own text is lower-cased with digits written as ``#``
and rare words as ``<unk>``/``UNK``; ``normalize=True`` applies OFASys's clean-up (lower case, ``<unk>`` ->
``unk``).

Toy data: an event record (who/what/where/when/how many) rendered as a 5-8 sentence article whose one key
sentence sits at a random position among distractors; the summary is the record's one-line template
(``alice sold 7 boxes at the market on tuesday``), which ``evaluate.fact_accuracy`` parses back.

Usage::

    rows = load("gigaword/train.src.txt")            # pairs with train.tgt.txt
    rows = load("gigaword", split="valid")            # valid.src / dev.src / ...
    paths = write_toy("out", n=1000, seed=0)          # out/{train,valid,test}.src + .tgt
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from polymodal.datasets import SPLITS, canonical_split, toy_split_sizes
from polymodal.errors import DataError
from polymodal_plugin_toyworld.events import random_event, render_article
from polymodal_plugin_toyworld.splits import draw_split

__all__ = ["load", "target_path", "make_toy", "write_toy", "baseline", "split_sizes"]

_TASK = "summarization"
# (source pattern, target replacement) pairs, tried in order on the file name.
_PAIRS = ((re.compile(r"\.src(\.txt)?$"), r".tgt\1"), (re.compile(r"\.source$"), ".target"),
          (re.compile(r"\.article(\.txt)?$"), r".title\1"))
_SPLIT_NAMES = {"train": ("train",), "valid": ("valid", "dev", "val", "validation"), "test": ("test",)}
_SUFFIXES = (".src", ".src.txt", ".source", ".article.txt")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


#: Rows per split written by :func:`write_toy` (``n`` for train, a fifth of it for valid and test); kept
#: under this name because callers and tests import it from here.
split_sizes = toy_split_sizes


def target_path(source: Path) -> Path:
    """The summary file that pairs with ``source`` (``x.src`` -> ``x.tgt``, ``x.article.txt`` -> ``x.title.txt``).

    Raises:
        DataError: when the name follows none of the known patterns.
    """
    for pattern, replacement in _PAIRS:
        if pattern.search(source.name):
            return source.with_name(pattern.sub(replacement, source.name))
    raise DataError("cannot tell the summary file from the source file name; expected *.src, *.src.txt, "
                    "*.source or *.article.txt", task=_TASK, source=str(source))


def _find_source(folder: Path, split: str) -> Path:
    for name in _SPLIT_NAMES[canonical_split(split, _TASK)]:
        for suffix in _SUFFIXES:
            if (folder / f"{name}{suffix}").is_file():
                return folder / f"{name}{suffix}"
    raise DataError(f"no {split} source file (e.g. {split}.src or {split}.src.txt) in this folder", task=_TASK,
                    source=str(folder))


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("no such file", task=_TASK, source=str(path)) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"line {line}: not UTF-8 text", task=_TASK, source=str(path), row=line) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start a new one
    return [line.rstrip("\r") for line in lines]


def _normalize(text: str) -> str:
    return re.sub(r"<unk>", "unk", text.lower())


def load(path: str | Path, split: str | None = None, *, normalize: bool = False) -> list[dict[str, str]]:
    """Read parallel article/summary files into ``{"src": article, "tgt": summary}`` rows.

    Args:
        path: the source file, or a folder together with ``split``.
        split: with a folder: ``train``, ``valid`` (or ``dev``) or ``test``.
        normalize: lower-case both sides and write ``<unk>`` as ``unk`` (as OFASys does for Gigaword).

    Raises:
        DataError: naming the file and 1-based line of an empty line, or of the first line without a partner
            when the two files differ in length.
    """
    source = Path(path)
    if source.is_dir():
        if split is None:
            raise DataError("a summarization folder needs split= (train, valid or test)", task=_TASK,
                            source=str(source))
        source = _find_source(source, split)
    target = target_path(source)
    articles, summaries = _read_lines(source), _read_lines(target)
    if len(articles) != len(summaries):
        shorter, longer = (source, target) if len(articles) < len(summaries) else (target, source)
        line = min(len(articles), len(summaries)) + 1
        raise DataError(f"line {line}: {longer.name} has a line here but {shorter.name} has ended "
                        f"({len(articles)} articles, {len(summaries)} summaries)", task=_TASK,
                        source=str(shorter), row=line)
    rows = []
    for i, (article, summary) in enumerate(zip(articles, summaries), start=1):
        for text, file, column in ((article, source, "src"), (summary, target, "tgt")):
            if not text.strip():
                raise DataError(f"line {i}: empty {'article' if column == 'src' else 'summary'}", task=_TASK,
                                source=str(file), row=i, column=column)
        if normalize:
            article, summary = _normalize(article), _normalize(summary)
        rows.append({"src": article.strip(), "tgt": summary.strip()})
    return rows


def make_toy(n: int, seed: int = 0, split: str = "train") -> list[dict[str, str]]:
    """Draw ``n`` toy article/summary rows; no event (summary) occurs in two splits.

    Args:
        n: number of rows.
        seed: fixes the rows.
        split: ``train``, ``valid`` or ``test``.
    """
    split = canonical_split(split, _TASK)

    def make(rng: Any) -> dict[str, str]:
        record = random_event(rng)
        article, _ = render_article(record, rng)
        return {"src": article, "tgt": record.summary()}

    return draw_split(make, n, seed, split, key=lambda row: row["tgt"], stream="summarization")


def write_toy(out_dir: str | Path, n: int, seed: int = 0) -> list[Path]:
    """Write toy ``{train,valid,test}.src``/``.tgt`` pairs (sizes from :func:`split_sizes`).

    Returns:
        The three source files ``[train.src, valid.src, test.src]``; :func:`load` finds each one's ``.tgt``
        and reads back exactly ``make_toy(size, seed, split)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split in SPLITS:
        rows = make_toy(split_sizes(n)[split], seed, split)
        src = out / f"{split}.src"
        src.write_text("".join(r["src"] + "\n" for r in rows), encoding="utf-8")
        target_path(src).write_text("".join(r["tgt"] + "\n" for r in rows), encoding="utf-8")
        paths.append(src)
    return paths


def baseline(train_rows: Sequence[dict[str, Any]], eval_rows: Sequence[dict[str, Any]]) -> list[str]:
    """Lead-1: the article's first sentence (without its final full stop) as the summary."""
    out = []
    for row in eval_rows:
        first = _SENTENCE_END.split(str(row["src"]).strip(), maxsplit=1)[0]
        out.append(re.sub(r"\s*[.!?]$", "", first))
    return out
