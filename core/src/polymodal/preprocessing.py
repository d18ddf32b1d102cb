"""The contract between the engine and preprocessors, plus the resources they share.

A preprocessor turns one slot's raw value into model inputs (encoder side) or target tokens (decoder side),
and turns generated tokens back into a value (``postprocess``). It runs in DataLoader workers, so it must be
picklable and must not hold torch state. Implementations subclass :class:`Preprocessor`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from polymodal.errors import DataError

if TYPE_CHECKING:
    from polymodal.planning.plan import SlotPlan
    from polymodal.vocab import VocabLayout

__all__ = ["BuildContext", "Preprocessor", "Resource"]


class Resource:
    """A shared, saved-with-the-checkpoint resource of a modality (e.g. the text tokenizer).

    Subclasses implement :meth:`fit` (build from task data), :meth:`save` and :meth:`load`, and
    :meth:`token_spaces` (the vocabulary spaces it defines).
    """

    key: str = ""

    @classmethod
    def fit(cls, texts: Any, options: Mapping[str, Any]) -> "Resource":
        raise NotImplementedError

    def save(self, directory: str) -> dict[str, Any]:
        """Write files into ``directory``; return the JSON-safe config needed by :meth:`load`."""
        raise NotImplementedError

    @classmethod
    def load(cls, directory: str, config: Mapping[str, Any]) -> "Resource":
        raise NotImplementedError

    def token_spaces(self) -> dict[str, int]:
        return {}


@dataclass
class BuildContext:
    """What a preprocessor may use: the vocabulary layout and the modalities' resources."""

    layout: "VocabLayout"
    resources: Mapping[str, Resource] = field(default_factory=dict)

    def resource(self, key: str) -> Resource:
        try:
            return self.resources[key]
        except KeyError:
            raise DataError(f"resource '{key}' is missing (known: {', '.join(self.resources) or 'none'})") from None


class Preprocessor:
    """Base class of preprocessors.

    Args:
        slot: the slot's plan (attributes, side, column).
        ctx: the build context.
    """

    def __init__(self, slot: "SlotPlan", ctx: BuildContext) -> None:
        self.slot = slot
        self.ctx = ctx
        self.attrs = dict(slot.attrs)

    # -- encoder side --------------------------------------------------------------------------------------
    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        """Model input for an E-slot: ``{"tokens": [...]}`` for token slots, or adapter-specific arrays.

        A token slot whose tokens sit in a grid or a table may add ``"cells"``: per token its ``(row, column,
        group)`` coordinates, 1-based, 0 where the token has none (a separator). The model adds an embedding of
        each (see ``ModelConfig.cells``), so that attention can match tokens of the same row, column or group
        wherever they are in the sequence."""
        raise NotImplementedError(f"{type(self).__name__} cannot serve the encoder side")

    # -- decoder side --------------------------------------------------------------------------------------
    def target(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> list[int]:
        """Target token ids (global, without BOS/EOS) of a D-slot."""
        raise NotImplementedError(f"{type(self).__name__} cannot serve the decoder side")

    def decoder_input(self, tokens: list[int], *, train: bool, rng: random.Random) -> list[int]:
        """The teacher-forcing input for ``tokens`` (noise may be added in training)."""
        return tokens

    def template(self, row: Mapping[str, Any]) -> list[int | tuple[int, ...]]:
        """For a D-slot with the ``keeps=COLUMN`` attribute: the value as a template read from the row's
        ``COLUMN``: a global id where the token is given (forced, and kept in the value), a tuple of the global
        ids allowed where it is blank (predicted). The slot's target must fit it."""
        raise DataError(f"{type(self).__name__} cannot keep the given parts of another column (keeps=...)",
                        column=self.slot.column)

    def template_cells(self, row: Mapping[str, Any]) -> list[tuple[int, int, int]] | None:
        """The coordinates of each token of :meth:`template` (as in :meth:`encode`'s ``"cells"``), or None. The
        decoder is told the cell of the token it predicts at each position."""
        return None

    def postprocess(self, tokens: list[int], row: Mapping[str, Any] | None = None) -> Any:
        """Turn generated tokens of this slot back into a value."""
        raise NotImplementedError(f"{type(self).__name__} has no postprocessor")

    def label_tokens(self, label: Any) -> list[int]:
        """Tokens of one closed-set label (default: the target tokens of the label in evaluation mode)."""
        return self.target(label, train=False, rng=random.Random(0), row={})
