"""The interface of encoder input adapters for non-token slots (images, audio, video, ...).

Token slots (text, prompt text, boxes as location tokens, linearised structures) are embedded by the model's
shared token embedding; every other E-slot has an adapter. The engine calls, for a slot whose adapter spec has
no ``space`` option:

1. ``Preprocessor.encode(value, ...)`` in a DataLoader worker -> a dict of numpy arrays (one row);
2. ``AdapterClass.collate(items)`` in the worker -> a dict of CPU tensors for the batch (a classmethod, so no
   module state crosses processes);
3. ``adapter(data)`` on the model's device -> ``(embeds [B, L, d], padding_mask [B, L], positions)`` or
   ``(embeds, padding_mask, positions, places)``, where ``padding_mask`` is True on padding, ``positions`` is
   ``None`` or an embedding ``[B, L, d]`` the adapter adds itself (e.g. 2-D patch positions), and ``places``
   (optional) is ``None`` or ``[B, L, 2]``: where each embedding sits in its input, ``(x, y)`` as fractions of
   the input's width and height (an image patch's centre). The engine adds a slot-type embedding and
   concatenates all slots in instruction order before the encoder; places let the location pointer
   (:mod:`polymodal.model.locating`) score location bins from the positions it attends to.

Adapters are built once per model with ``AdapterClass(d_model=..., options=spec.options, attrs=slot.attrs)``
and their parameters are saved in the checkpoint under ``adapters.<name>.``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn

__all__ = ["Adapter"]


class Adapter(nn.Module):
    """Base class of encoder adapters for non-token slots.

    Args:
        d_model: the backbone width the adapter must output.
        options: the adapter spec's options (overridable from the model configuration).
        attrs: the slot attributes (adapter-specific ones were validated against the spec's schema).
    """

    def __init__(self, d_model: int, options: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.d_model = d_model
        self.options = dict(options or {})
        self.attrs = dict(attrs or {})

    @classmethod
    def collate(cls, items: Sequence[Mapping[str, Any]]) -> dict[str, Tensor]:
        """Stack one batch of preprocessed rows (numpy arrays) into tensors; default: stack every key."""
        return {key: torch.stack([torch.as_tensor(item[key]) for item in items]) for key in items[0]}

    def forward(self, data: Mapping[str, Tensor]) -> tuple[Tensor, ...]:
        """``(embeds, padding_mask, positions)`` or ``(embeds, padding_mask, positions, places)``."""
        raise NotImplementedError
