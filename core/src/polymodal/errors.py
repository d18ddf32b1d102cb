"""The exception classes of polymodal.

Every error a user can trigger is one of these, and its message says what was wrong, where, and what to do.
"""
from __future__ import annotations

__all__ = ["PolymodalError", "InstructionError", "PlanError", "DataError", "PluginError"]


class PolymodalError(Exception):
    """Base class of every polymodal error."""


def caret_block(text: str, column: int, width: int = 1) -> str:
    """Render ``text`` with a caret line under ``column`` (0-based)."""
    column = max(0, min(column, len(text)))
    line = text.replace("\t", " ").replace("\n", " ")
    return f"  {line}\n  {' ' * column}{'^' * max(1, width)}"


class InstructionError(PolymodalError, ValueError):
    """A malformed instruction.

    Attributes:
        instruction: the instruction text.
        column: 0-based column of the problem in ``instruction``.
        reason: what is wrong, in one sentence.
        suggestion: how to fix it, or ``None``.
    """

    def __init__(self, reason: str, instruction: str, column: int, *, width: int = 1,
                 suggestion: str | None = None) -> None:
        self.reason = reason
        self.instruction = instruction
        self.column = column
        self.width = width
        self.suggestion = suggestion
        msg = f"{reason} (column {column + 1})\n{caret_block(instruction, column, width)}"
        if suggestion:
            msg += f"\n  hint: {suggestion}"
        super().__init__(msg)


class PlanError(PolymodalError):
    """An instruction that parses but cannot be planned (no component fits, conflicting choices)."""


class DataError(PolymodalError, ValueError):
    """A data row or file that does not fit its task.

    Attributes:
        task: task name, if known.
        row: 0-based row index (or line number for files), if known.
        column: the data column (slot name) at fault, if known.
        source: the file it came from, if any.
    """

    def __init__(self, reason: str, *, task: str | None = None, row: int | None = None,
                 column: str | None = None, source: str | None = None) -> None:
        self.reason = reason
        self.task = task
        self.row = row
        self.column = column
        self.source = source
        where = []
        if task is not None:
            where.append(f"task {task!r}")
        if source is not None:
            where.append(f"file {source}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)

    def located(self, **where: object) -> "DataError":
        """Return a copy with missing location fields filled in."""
        fields = {k: getattr(self, k) for k in ("task", "row", "column", "source")}
        for key, value in where.items():
            if fields.get(key) is None:
                fields[key] = value
        return DataError(self.reason, **fields)  # type: ignore[arg-type]


class PluginError(PolymodalError):
    """A plugin that cannot be found, imported or used."""
