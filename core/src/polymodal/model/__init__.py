"""The backbone: configuration, encoder-decoder Transformer, tied output heads and the loss.

Import from here; the submodules are an implementation detail::

    from polymodal.model import EncoderDecoder, ModelConfig, TiedHead, label_smoothed_loss
"""
from __future__ import annotations

from .cache import KVCache
from .config import ACTIVATIONS, SIZES, ModelConfig
from .heads import PreparedHead, TiedHead
from .layers import Packing, sinusoidal_
from .losses import label_smoothed_loss
from .stepping import StepWeights
from .transformer import PACK_MIN_PADDING, EncoderDecoder, key_mask

__all__ = [
    "ACTIVATIONS", "SIZES", "ModelConfig", "EncoderDecoder", "KVCache", "TiedHead", "PreparedHead",
    "label_smoothed_loss", "key_mask", "Packing", "StepWeights", "PACK_MIN_PADDING", "sinusoidal_",
]
