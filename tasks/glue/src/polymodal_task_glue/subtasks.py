"""The nine GLUE subtasks: their files, columns, label words, instruction templates and metrics.

Import-light (no third-party imports): ``task.py`` builds its task specs from this table, and ``data.py``
reads and writes the GLUE TSV files with it.

Label words are what the model generates: SST-2 says ``positive``/``negative``, MNLI says
``entailment``/``neutral``/``contradiction``, the yes/no questions (CoLA, MRPC, QQP, QNLI, RTE, WNLI) say
``yes``/``no``, and STS-B says its score rounded to one decimal (``"3.8"``), chosen from the closed set
``0.0, 0.1, ..., 5.0`` and scored by Pearson/Spearman correlation. Metrics: accuracy; MCC for CoLA; accuracy
and binary F1 of ``yes`` for MRPC and QQP; Pearson/Spearman for STS-B.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Subtask", "SUBTASKS", "DEFAULT_SUBTASK", "STSB_LABELS", "get_subtask", "stsb_label"]

#: STS-B's closed set: the scores 0.0-5.0 in steps of 0.1, as the model writes them.
STSB_LABELS: tuple[str, ...] = tuple(f"{i / 10:.1f}" for i in range(51))


def stsb_label(score: float) -> str:
    """The label word of an STS-B score: rounded to one decimal and clipped to [0, 5]."""
    return f"{min(5.0, max(0.0, round(float(score), 1))):.1f}"


def _pair(question: str) -> str:
    """A two-sentence template: the question asked on the encoder side, repeated as a no-loss prefix."""
    enc = question.format(a="[TEXT:sent1]", b="[TEXT:sent2]")
    dec = question.format(a="[TEXT:sent1,no_loss]", b="[TEXT:sent2,no_loss]")
    return f"{enc} -> {dec} [TEXT:label,closed_set]"


def _single(question: str) -> str:
    enc = question.format(a="[TEXT:sentence]")
    dec = question.format(a="[TEXT:sentence,no_loss]")
    return f"{enc} -> {dec} [TEXT:label,closed_set]"


@dataclass(frozen=True)
class Subtask:
    """One GLUE subtask.

    Attributes:
        name: lower-case key (``"sst2"``).
        folder: its folder in the GLUE download (``"SST-2"``).
        instruction: the instruction template.
        columns: the text columns of a row (``("sentence",)`` or ``("sent1", "sent2")``).
        fields: the TSV header names read into ``columns``, in the same order.
        label_fields: header names that may hold the label, first found wins.
        labels: raw label -> label word (``None`` for STS-B's real-valued score).
        closed_set: the label words the decoder may produce.
        evaluators: evaluator names, or ``(name, options)`` pairs (``polymodal-plugin-metrics``).
        primary_metric: ``"<evaluator>.<key>"``.
        files: split -> file name in the folder.
        headerless: train/dev files have no header (CoLA); the text is then column 3 and the label column 1.
    """

    name: str
    folder: str
    instruction: str
    columns: tuple[str, ...]
    fields: tuple[str, ...]
    label_fields: tuple[str, ...]
    labels: dict[str, str] | None
    closed_set: tuple[str, ...]
    evaluators: tuple[Any, ...] = ("accuracy",)
    primary_metric: str = "accuracy.accuracy"
    files: dict[str, str] = field(default_factory=lambda: {"train": "train.tsv", "valid": "dev.tsv",
                                                            "test": "test.tsv"})
    headerless: bool = False

    def label_word(self, raw: str) -> str | None:
        """Map a raw file label to its word; ``None`` when it is not a label of this subtask."""
        raw = raw.strip()
        if self.labels is None:
            try:
                return stsb_label(float(raw))
            except ValueError:
                return None
        if raw in self.labels:
            return self.labels[raw]
        return raw if raw in self.closed_set else None  # files that already hold the words

    def raw_label(self, word: str) -> str:
        """The file label written for a label word (the inverse of :meth:`label_word`)."""
        if self.labels is None:
            return word
        for raw, w in self.labels.items():
            if w == word:
                return raw
        raise KeyError(f"{word!r} is not a label of {self.name} (expected one of {', '.join(self.closed_set)})")


_YES_NO = {"0": "no", "1": "yes"}
_ENTAIL_YES_NO = {"entailment": "yes", "not_entailment": "no"}
_NLI_FIELDS = ("sentence1", "sentence2")
# GLUE reports F1 of the positive ("duplicate") class next to accuracy for MRPC and QQP.
_ACC_F1 = ("accuracy", ("f1", {"average": "binary", "positive": "yes"}))

SUBTASKS: dict[str, Subtask] = {s.name: s for s in (
    Subtask("cola", "CoLA", _single('is the text " {a} " grammatically correct?'), ("sentence",),
            ("sentence",), ("label",), _YES_NO, ("no", "yes"), ("mcc", "accuracy"), "mcc.mcc",
            headerless=True),
    Subtask("sst2", "SST-2", _single('is the sentiment of text " {a} " positive or negative?'), ("sentence",),
            ("sentence",), ("label",), {"0": "negative", "1": "positive"}, ("negative", "positive")),
    Subtask("mrpc", "MRPC", _pair('does text1 " {a} " and text2 " {b} " have the same semantics?'),
            ("sent1", "sent2"), ("#1 String", "#2 String"), ("Quality",), _YES_NO, ("no", "yes"), _ACC_F1),
    Subtask("stsb", "STS-B", _pair('what is the similarity of text1 " {a} " and text2 " {b} "?'),
            ("sent1", "sent2"), _NLI_FIELDS, ("score",), None, STSB_LABELS, ("pearson_spearman",),
            "pearson_spearman.corr"),
    Subtask("qqp", "QQP", _pair('is question " {a} " and question " {b} " equivalent?'), ("sent1", "sent2"),
            ("question1", "question2"), ("is_duplicate",), _YES_NO, ("no", "yes"), _ACC_F1),
    Subtask("mnli", "MNLI", _pair('can text1 " {a} " imply text2 " {b} "?'), ("sent1", "sent2"), _NLI_FIELDS,
            ("gold_label", "label"), {"entailment": "entailment", "neutral": "neutral",
                                      "contradiction": "contradiction"},
            ("entailment", "neutral", "contradiction"),
            files={"train": "train.tsv", "valid": "dev_matched.tsv", "test": "test_matched.tsv",
                   "valid_mismatched": "dev_mismatched.tsv", "test_mismatched": "test_mismatched.tsv"}),
    Subtask("qnli", "QNLI", _pair('does text2 " {b} " answer the question " {a} "?'), ("sent1", "sent2"),
            ("question", "sentence"), ("label",), _ENTAIL_YES_NO, ("no", "yes")),
    Subtask("rte", "RTE", _pair('can text1 " {a} " imply text2 " {b} "?'), ("sent1", "sent2"), _NLI_FIELDS,
            ("label",), _ENTAIL_YES_NO, ("no", "yes")),
    Subtask("wnli", "WNLI", _pair('can text1 " {a} " imply text2 " {b} "?'), ("sent1", "sent2"), _NLI_FIELDS,
            ("label",), _YES_NO, ("no", "yes")),
)}

#: The subtask of the task's default instruction (DESIGN.md §7).
DEFAULT_SUBTASK = "sst2"

_FOLDER_INDEX = {k.replace("-", "").replace("_", "").lower(): k for k in SUBTASKS} | {
    s.folder.replace("-", "").lower(): s.name for s in SUBTASKS.values()}


def get_subtask(name: str) -> Subtask:
    """Look a subtask up by key or folder name (``"sst2"``, ``"SST-2"``, ``"sts_b"``...).

    Raises:
        KeyError: naming the known subtasks.
    """
    key = _FOLDER_INDEX.get(name.replace("-", "").replace("_", "").lower())
    if key is None:
        raise KeyError(f"unknown GLUE subtask {name!r}; expected one of {', '.join(SUBTASKS)}")
    return SUBTASKS[key]
