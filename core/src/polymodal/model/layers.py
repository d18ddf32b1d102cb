"""Pre-LayerNorm Transformer blocks: attention, feed-forward, encoder and decoder layers.

Attention runs through :func:`torch.nn.functional.scaled_dot_product_attention` so that PyTorch picks its
fused kernel (flash attention on CPU and GPU). Query, key and value come from one fused projection in
self-attention (one matmul instead of three), key and value from one fused projection in
cross-attention. Layers here run full passes (training, scoring); incremental decoding runs the same
decoder layers step by step in :mod:`polymodal.model.stepping`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig

__all__ = ["Packing", "SelfAttention", "CrossAttention", "FeedForward", "EncoderLayer", "DecoderLayer",
           "activate", "sinusoidal_"]


@dataclass
class Packing:
    """Which positions of a padded ``[B, T]`` batch are real, for computing on real tokens only.

    Per-token work (LayerNorms, projections, feed-forward blocks) runs on the ``N`` real positions
    (``[N, d]``); only attention scatters them back to ``[B, T]``. With a mixed-task batch a third to a
    half of the positions can be padding, and none of their work is needed.

    Attributes:
        index: ``LongTensor[N]``, flat indices (``b * T + t``) of the real positions.
        batch, length: ``B`` and ``T``.
    """

    index: Tensor
    batch: int
    length: int

    @classmethod
    def from_padding(cls, padding_mask: Tensor) -> "Packing":
        """Build from a ``BoolTensor[B, T]`` that is True at padding."""
        b, t = padding_mask.shape
        return cls((~padding_mask).reshape(-1).nonzero().squeeze(1), b, t)

    def pack(self, x: Tensor) -> Tensor:
        """``[B, T, ...] -> [N, ...]``."""
        return x.reshape(self.batch * self.length, *x.shape[2:]).index_select(0, self.index)

    def unpack(self, x: Tensor) -> Tensor:
        """``[N, ...] -> [B, T, ...]`` with zeros at padding."""
        full = x.new_zeros((self.batch * self.length, *x.shape[1:]))
        return full.index_copy(0, self.index, x).view(self.batch, self.length, *x.shape[1:])


def _attend(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None = None, dropout_p: float = 0.0,
            is_causal: bool = False) -> Tensor:
    """Scaled dot-product attention; in float32 when training under CPU autocast.

    PyTorch's CPU flash-attention backward is 2-3x slower in bfloat16 than in float32 at these sizes,
    and the inputs are small next to the projections, so upcasting them is the faster choice.
    """
    if q.device.type == "cpu" and q.dtype != torch.float32 and q.requires_grad:
        with torch.autocast("cpu", enabled=False):
            return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=attn_mask,
                                                  dropout_p=dropout_p, is_causal=is_causal)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p,
                                          is_causal=is_causal)


def _split_heads(x: Tensor, n_heads: int) -> Tensor:
    """``[B, T, H*dh] -> [B, H, T, dh]`` (a view)."""
    b, t, d = x.shape
    return x.view(b, t, n_heads, d // n_heads).transpose(1, 2)


def _merge_heads(x: Tensor) -> Tensor:
    """``[B, H, T, dh] -> [B, T, H*dh]``."""
    b, h, t, dh = x.shape
    return x.transpose(1, 2).reshape(b, t, h * dh)


class SelfAttention(nn.Module):
    """Multi-head self-attention with a fused query/key/value projection.

    Args:
        d_model: model width.
        n_heads: number of heads.
        attention_dropout: dropout on attention probabilities while training.
    """

    def __init__(self, d_model: int, n_heads: int, attention_dropout: float = 0.0) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.attention_dropout = attention_dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _qkv(self, x: Tensor, pack: Packing | None = None) -> tuple[Tensor, Tensor, Tensor]:
        qkv = self.qkv(x)
        if pack is not None:
            qkv = pack.unpack(qkv)
        b, t, d3 = qkv.shape
        qkv = qkv.view(b, t, 3, self.n_heads, d3 // (3 * self.n_heads)).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def forward(self, x: Tensor, attn_mask: Tensor | None = None, is_causal: bool = False,
                pack: Packing | None = None) -> Tensor:
        """Attend over the whole of ``x``.

        Args:
            x: input, already normalised: ``[B, T, d]``, or ``[N, d]`` real positions with ``pack``.
            attn_mask: boolean mask broadcastable to ``[B, H, T, T]``, True where attention is allowed.
            is_causal: use a causal mask (ignored when ``attn_mask`` is given).
            pack: the real positions when ``x`` is packed; the output is packed the same way.
        """
        q, k, v = self._qkv(x, pack)
        p = self.attention_dropout if self.training else 0.0
        o = _attend(q, k, v, attn_mask, p, is_causal and attn_mask is None)
        o = _merge_heads(o)
        return self.out(o if pack is None else pack.pack(o))


class CrossAttention(nn.Module):
    """Multi-head attention from decoder positions to the encoder output.

    Keys and values depend only on the encoder output, so :meth:`kv` computes them once per batch and
    generation reuses them at every step.
    """

    def __init__(self, d_model: int, n_heads: int, attention_dropout: float = 0.0) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.attention_dropout = attention_dropout
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def keys_values(self, enc_out: Tensor) -> tuple[Tensor, Tensor]:
        """Project ``enc_out`` (``[B, S, d]``) to keys and values, each ``[B, H, S, dh]``."""
        b, s, d = enc_out.shape
        kv = self.kv(enc_out).view(b, s, 2, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        return kv[0], kv[1]

    def forward(self, x: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None,
                pack: Packing | None = None) -> Tensor:
        """Attend from ``x`` (normalised; ``[B, T, d]``, or ``[N, d]`` with ``pack``) over ``k``, ``v``."""
        q = self.q(x)
        q = _split_heads(q if pack is None else pack.unpack(q), self.n_heads)
        p = self.attention_dropout if self.training else 0.0
        o = _merge_heads(_attend(q, k, v, attn_mask, p))
        return self.out(o if pack is None else pack.pack(o))


class FeedForward(nn.Module):
    """Two linear maps with an activation between them."""

    def __init__(self, d_model: int, ffn_dim: int, activation: str) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_model, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, d_model)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block to ``x`` (``[..., d]``)."""
        return self.fc2(activate(self.fc1(x), self.activation))


def activate(x: Tensor, activation: str) -> Tensor:
    """Apply a feed-forward activation by name (see :data:`~polymodal.model.config.ACTIVATIONS`)."""
    if activation == "relu":
        return F.relu(x)
    return F.gelu(x, approximate="tanh" if activation == "gelu_tanh" else "none")


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout with probability ``p`` while ``training``; ``x`` itself otherwise (no kernel launch).

    On the CPU the keep mask is drawn as 16-bit integers compared with ``p * 2^15`` (``p`` is honoured to
    1/32768): PyTorch's CPU dropout draws a Bernoulli float per element, which took 10% of a training step
    of the demo's model; this mask is drawn 2-3x faster. Elsewhere ``F.dropout``.
    """
    if not training or p <= 0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, True)
    keep = torch.empty(x.shape, dtype=torch.int16, device=x.device).random_() >= round(p * 32768)
    return torch.mul(x, keep).mul_(1.0 / (1.0 - p))


class EncoderLayer(nn.Module):
    """Pre-LN encoder layer: ``x + attn(LN(x))`` then ``x + ffn(LN(x))``."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.d_model
        self.attn_norm = nn.LayerNorm(d)
        self.attn = SelfAttention(d, config.n_heads, config.attention_dropout)
        self.ffn_norm = nn.LayerNorm(d)
        self.ffn = FeedForward(d, config.ffn_dim, config.activation)
        self.dropout = config.dropout

    def forward(self, x: Tensor, attn_mask: Tensor | None, pack: Packing | None = None) -> Tensor:
        """Run the layer on ``x`` (``[B, S, d]``, or ``[N, d]`` with ``pack``).

        ``attn_mask`` is True where a key may be attended.
        """
        x = x + dropout(self.attn(self.attn_norm(x), attn_mask, pack=pack), self.dropout, self.training)
        return x + dropout(self.ffn(self.ffn_norm(x)), self.dropout, self.training)


class DecoderLayer(nn.Module):
    """Pre-LN decoder layer: causal self-attention, cross-attention, feed-forward."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d = config.d_model
        self.self_norm = nn.LayerNorm(d)
        self.self_attn = SelfAttention(d, config.n_heads, config.attention_dropout)
        self.cross_norm = nn.LayerNorm(d)
        self.cross_attn = CrossAttention(d, config.n_heads, config.attention_dropout)
        self.ffn_norm = nn.LayerNorm(d)
        self.ffn = FeedForward(d, config.ffn_dim, config.activation)
        self.dropout = config.dropout

    def forward(self, x: Tensor, cross_k: Tensor | None, cross_v: Tensor | None,
                cross_mask: Tensor | None, cross_scale: Tensor | None = None, *,
                pack: Packing | None = None, memory: Tensor | None = None) -> Tensor:
        """Full causal pass over decoder states ``x`` (``[B, T, d]``, or ``[N, d]`` with ``pack``).

        Incremental decoding goes through :func:`polymodal.model.stepping.decoder_layer_step` instead.

        Args:
            x: decoder states.
            cross_k, cross_v: encoder keys/values (``[B, H, S, dh]``), or None when there is no encoder
                output (the cross-attention block is then skipped).
            cross_mask: True where an encoder position may be attended, or None for all.
            cross_scale: ``[B, 1, 1]`` factor that zeroes cross-attention for rows without any encoder
                position, or None.
            pack: the real positions of a packed full pass (trailing padding removed).
            memory: the encoder output, from which the layer computes ``cross_k, cross_v`` itself (so that a
                sharded layer's weights are gathered for it).
        """
        if memory is not None:
            cross_k, cross_v = self.cross_attn.keys_values(memory)
        h = self.self_attn(self.self_norm(x), is_causal=True, pack=pack)
        x = x + dropout(h, self.dropout, self.training)
        if cross_k is not None:
            h = self.cross_attn(self.cross_norm(x), cross_k, cross_v, cross_mask, pack=pack)
            if cross_scale is not None:
                h = h * (cross_scale if pack is None else pack.pack(cross_scale.expand(-1, pack.length, 1)))
            x = x + dropout(h, self.dropout, self.training)
        return x + dropout(self.ffn(self.ffn_norm(x)), self.dropout, self.training)


@torch.no_grad()
def sinusoidal_(table: Tensor, dims: slice | None = None) -> Tensor:
    """Fill a position table ``[n, d]`` in place with sine/cosine waves (Vaswani et al.), zeros outside ``dims``.

    Learned position tables start from these values rather than from small noise: the waves have the scale of
    the sqrt(d)-scaled token embeddings (each element's variance is 1/2), so order is visible from the first
    step, and nearby positions start similar. Two tables meant to be summed (an image's rows and columns) take
    disjoint ``dims`` so that (row i, column j) and (row j, column i) differ.
    """
    n, d = table.shape
    lo, hi, _ = (dims or slice(0, d)).indices(d)
    width = hi - lo
    half = width // 2
    position = torch.arange(n, dtype=torch.float64)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / max(half, 1))
    angle = position * freq[None, :]
    table.zero_()
    table[:, lo:lo + half] = torch.sin(angle).to(table.dtype)
    table[:, lo + half:lo + 2 * half] = torch.cos(angle).to(table.dtype)
    return table


def init_weights(module: nn.Module, d_model: int) -> None:
    """Initialise a backbone module in place: linears N(0, 0.02), zero biases, unit LayerNorms.

    Embeddings use N(0, d^-1/2) so that the sqrt(d)-scaled token embedding has unit variance and the tied
    output projection starts with logits of unit scale.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=1.0 / math.sqrt(d_model))
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
