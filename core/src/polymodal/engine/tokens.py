"""Embedding of token slots: every token-based modality (text, boxes as location tokens, linearised
structures, phones) shares the backbone's one embedding table, so their adapter specs all point here."""
from __future__ import annotations

from torch import Tensor, nn

__all__ = ["TokenEmbedding"]


class TokenEmbedding(nn.Module):
    """Scaled lookup in the backbone's shared token table (positions and slot types are added by the engine).

    Args:
        backbone: the :class:`~polymodal.model.EncoderDecoder` whose ``embed_tokens`` is shared.
    """

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self._backbone = [backbone]  # a reference, not a submodule: the table is saved once, with the backbone

    def forward(self, ids: Tensor) -> Tensor:
        backbone = self._backbone[0]
        return backbone.lookup(ids) * backbone.embed_scale
