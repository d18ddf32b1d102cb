"""The architecture of the backbone as plain data.

A :class:`ModelConfig` says everything needed to rebuild an :class:`~polymodal.model.EncoderDecoder`
with the same parameter shapes; it is stored as JSON in every checkpoint. The named sizes follow OFA
(tiny ... huge) and add three small ones that train in seconds on a CPU for tests.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["ModelConfig", "SIZES", "ACTIVATIONS"]

#: Activations the feed-forward blocks support.
ACTIVATIONS = ("gelu", "relu", "gelu_tanh")

#: Named sizes: width, layers, heads and feed-forward width. OFA's five plus three CPU-test sizes.
SIZES: dict[str, dict[str, int]] = {
    "nano": dict(d_model=64, encoder_layers=2, decoder_layers=2, n_heads=2, ffn_dim=256),
    "micro": dict(d_model=128, encoder_layers=2, decoder_layers=2, n_heads=4, ffn_dim=512),
    "mini": dict(d_model=192, encoder_layers=3, decoder_layers=3, n_heads=4, ffn_dim=768),
    "tiny": dict(d_model=256, encoder_layers=4, decoder_layers=4, n_heads=4, ffn_dim=1024),
    "medium": dict(d_model=512, encoder_layers=4, decoder_layers=4, n_heads=8, ffn_dim=2048),
    "base": dict(d_model=768, encoder_layers=6, decoder_layers=6, n_heads=12, ffn_dim=3072),
    "large": dict(d_model=1024, encoder_layers=12, decoder_layers=12, n_heads=16, ffn_dim=4096),
    "huge": dict(d_model=1280, encoder_layers=24, decoder_layers=12, n_heads=16, ffn_dim=5120),
}


@dataclass
class ModelConfig:
    """Shape and regularisation of the encoder-decoder Transformer.

    Args:
        vocab_size: rows of the shared token embedding (all token spaces together).
        d_model: model width.
        n_heads: attention heads; must divide ``d_model``.
        ffn_dim: inner width of the feed-forward blocks.
        encoder_layers: number of encoder layers.
        decoder_layers: number of decoder layers.
        dropout: dropout on embeddings and residual branches during training.
        attention_dropout: dropout on attention probabilities during training.
        activation: feed-forward activation, one of :data:`ACTIVATIONS`.
        max_target_positions: learned decoder positions (the longest decoder sequence).
        pad_id: global id of the padding token.
        copy: mix a pointer over the encoder's tokens into every head (see :mod:`polymodal.model.copying`).
        locate: score location bins with a pointer over the input's placed features, e.g. image patches
            (see :mod:`polymodal.model.locating`); used only by models with spatial token spaces.
        cells: coordinate embeddings per axis for tokens that sit in a grid or a table (row, column and group,
            e.g. a Sudoku box), on both sides of the model: a preprocessor reports the coordinates of its
            encoder tokens, and a decoding template those of the tokens it predicts. Coordinates above
            ``cells`` share the last embedding; 0 disables them (configs written before they existed).
    """

    vocab_size: int
    d_model: int = 256
    n_heads: int = 4
    ffn_dim: int = 1024
    encoder_layers: int = 4
    decoder_layers: int = 4
    dropout: float = 0.1
    attention_dropout: float = 0.0
    activation: str = "gelu"
    max_target_positions: int = 1024
    pad_id: int = 0
    copy: bool = False
    locate: bool = True
    cells: int = 16

    def __post_init__(self) -> None:
        problems = []
        if self.vocab_size < 1:
            problems.append(f"vocab_size must be positive, got {self.vocab_size}")
        if self.d_model < 1 or self.n_heads < 1 or self.d_model % self.n_heads:
            problems.append(f"n_heads ({self.n_heads}) must divide d_model ({self.d_model})")
        if self.ffn_dim < 1:
            problems.append(f"ffn_dim must be positive, got {self.ffn_dim}")
        if self.encoder_layers < 0 or self.decoder_layers < 1:
            problems.append("need encoder_layers >= 0 and decoder_layers >= 1, got "
                            f"{self.encoder_layers} and {self.decoder_layers}")
        for name in ("dropout", "attention_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                problems.append(f"{name} must be in [0, 1), got {value}")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.cells < 0:
            problems.append(f"cells must be >= 0, got {self.cells}")
        if self.max_target_positions < 1:
            problems.append(f"max_target_positions must be positive, got {self.max_target_positions}")
        if not 0 <= self.pad_id < max(self.vocab_size, 1):
            problems.append(f"pad_id {self.pad_id} is outside the vocabulary of {self.vocab_size}")
        if problems:
            raise ValueError("invalid ModelConfig: " + "; ".join(problems))

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.d_model // self.n_heads

    @classmethod
    def named(cls, size: str, vocab_size: int, **overrides: Any) -> "ModelConfig":
        """Build the config of a named size.

        Args:
            size: one of :data:`SIZES` (``"tiny"``, ``"medium"``, ``"base"``, ... or ``"nano"`` for tests).
            vocab_size: rows of the shared embedding.
            **overrides: any other field, e.g. ``dropout=0.0``.

        Raises:
            ValueError: for an unknown size or an unknown field.
        """
        if size not in SIZES:
            raise ValueError(f"unknown model size {size!r}; known sizes: {', '.join(SIZES)}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s) {', '.join(unknown)}; "
                             f"fields are: {', '.join(sorted(known))}")
        return cls(vocab_size=vocab_size, **{**SIZES[size], **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (only str/int/float values)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelConfig":
        """Rebuild a config written by :meth:`to_dict`.

        Raises:
            ValueError: when ``data`` holds unknown keys (a checkpoint from another version) or misses
                ``vocab_size``.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"model config has unknown key(s) {', '.join(unknown)}; "
                             f"expected a subset of: {', '.join(sorted(known))}")
        if "vocab_size" not in data:
            raise ValueError("model config lacks 'vocab_size'")
        data = dict(data)
        data.setdefault("cells", 0)  # written before coordinate embeddings existed
        return cls(**data)
