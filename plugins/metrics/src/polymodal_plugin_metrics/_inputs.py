"""Input checks and text normalisation shared by every evaluator of this pack.

Every evaluator receives the gathered predictions and references of a whole split. The helpers here turn
the loosely typed inputs (strings, numbers, ``None`` for a failed generation, lists of acceptable
references) into plain Python values, and raise :class:`polymodal.errors.DataError` with the evaluator's
name and the row at fault when the input cannot be scored. Nothing here imports numpy or a scorer library.
"""
from __future__ import annotations

import re
import string
import unicodedata
from typing import Any, Sequence

from polymodal.errors import DataError, PlanError

__all__ = [
    "check_pair", "alternatives", "as_text", "normalize_text", "strip_punctuation", "parse_float",
    "check_choice",
]

_SPACES = re.compile(r"\s+")
_ASCII_PUNCT = frozenset(string.punctuation)


def check_pair(name: str, predictions: Sequence[Any], references: Sequence[Any]) -> tuple[list, list]:
    """Check that predictions and references line up and are not empty.

    Args:
        name: the evaluator's name, used in messages.
        predictions: one prediction per evaluated row.
        references: one reference entry per row (a single reference or a list of alternatives).

    Returns:
        The predictions and references as lists.

    Raises:
        DataError: the two lengths differ, or there is nothing to evaluate.
    """
    preds = list(predictions)
    refs = list(references)
    if len(preds) != len(refs):
        raise DataError(
            f"{name}: got {len(preds)} predictions but {len(refs)} references; each row needs exactly one "
            "reference entry (a list of acceptable references counts as one entry)")
    if not preds:
        raise DataError(f"{name}: no predictions to evaluate (the split is empty); evaluate at least one row")
    return preds, refs


def alternatives(name: str, reference: Any, row: int) -> list[Any]:
    """Return the acceptable references of one row as a non-empty list.

    A ``list`` or ``tuple`` holds alternatives; anything else is one reference.

    Raises:
        DataError: the row has an empty list of references or a missing (``None``) reference.
    """
    refs = list(reference) if isinstance(reference, (list, tuple)) else [reference]
    if not refs:
        raise DataError(f"{name}: the list of acceptable references is empty", row=row)
    if any(ref is None for ref in refs):
        raise DataError(f"{name}: a reference is missing (None)", row=row)
    return refs


def as_text(value: Any) -> str:
    """A prediction or reference as text; ``None`` (a failed generation) is the empty string."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _is_punctuation(char: str) -> bool:
    # ASCII symbols such as $ + < = > | ~ are Unicode category S, not P, but SQuAD-style normalisation
    # drops them too, so both sets count.
    return char in _ASCII_PUNCT or unicodedata.category(char).startswith("P")


def strip_punctuation(text: str) -> str:
    """Delete punctuation characters (SQuAD style: ``"don't"`` -> ``"dont"``, ``"u.s."`` -> ``"us"``)."""
    return "".join(ch for ch in text if not _is_punctuation(ch))


def normalize_text(value: Any, *, punctuation: bool = False) -> str:
    """Lower-case, trim and collapse runs of whitespace; optionally delete punctuation first.

    Args:
        value: the text (other values are converted with ``str``; ``None`` becomes ``""``).
        punctuation: also delete punctuation characters.
    """
    text = as_text(value).lower()
    if punctuation:
        text = strip_punctuation(text)
    return _SPACES.sub(" ", text).strip()


def parse_float(value: Any) -> float | None:
    """Parse a number from a prediction or reference; ``None`` when it is not a finite number.

    Accepts ints and floats, and strings that are a number once surrounding whitespace is removed
    (``" 3.5 "``). Text around the number (``"about 3"``) is not accepted: a generated answer either is a
    number or it is not.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    # NaN and infinities would poison a correlation; treat them as unparsable.
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


def check_choice(name: str, option: str, value: Any, choices: Sequence[Any]) -> None:
    """Raise :class:`PlanError` when an evaluator option is not one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise PlanError(f"{name}: option {option}={value!r} is not supported; use one of {allowed}")
