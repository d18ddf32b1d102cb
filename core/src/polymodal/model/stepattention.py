"""Attention of a decoding step's few new queries over the cached keys and values, on the C kernel ``attention.c``
(built by :mod:`~polymodal.model.native`).

A step of greedy search at batch 1 attends 8 heads of one query over at most a few hundred keys: a few
thousand multiply-adds. A medium decoder calls attention twice per layer, and removing those calls took 5% off a
greedy call at batch 1 and 8% off beam search at batch 1. PyTorch's fused attention spends most of a call
setting up its blocked parallel kernel: 13 us a call in isolation, 23-24 inside the loop (timed around the
call; the keys and values come cold from memory after the weights have streamed past). The kernel runs each
(row, head) pair's softmax over the keys on one thread and writes the output in the layout the output
projection reads, so the transpose after PyTorch's attention goes too: 10 us in isolation, 19 in the loop (13
of them in C). Interleaved A/B runs gave the same columns in 0.97x the time for medium greedy at batch 1 and
0.95x for beam-5 at batch 1 and 16.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .native import library

__all__ = ["step_attention", "MAX_QUERIES"]

#: Most query positions per (row, head) the kernel is used for: a decoding step has a few (one per hypothesis of a
#: row in beam search's shared cross-attention, or a forced prefix); PyTorch's blocked kernel serves longer runs.
MAX_QUERIES = 16

_DTYPES = (torch.float32, torch.bfloat16)


def step_attention(q: Tensor, k: Tensor, v: Tensor, key_mask: Tensor | None = None,
                   causal_from: int | None = None) -> Tensor | None:
    """``scaled_dot_product_attention(q, k, v)`` laid out as ``[rows, queries, heads, dim]``, or None where the
    kernel is unavailable or does not take these operands (then call PyTorch's).

    Args:
        q: ``[rows, heads, queries, dim]`` float32 or bfloat16 CPU queries, any strides with a contiguous last
            dimension.
        k, v: ``[rows, heads, keys, dim]``, the same dtype, likewise.
        key_mask: ``[rows, 1, 1, keys]`` or ``[rows, keys]`` bool, True where a key may be attended, or None.
        causal_from: query ``i`` attends keys ``0 .. causal_from + i`` only (new positions after a cache of
            ``causal_from`` positions), or None for every key.

    Returns:
        ``[rows, queries, heads, dim]`` contiguous, in ``q``'s dtype; a query that may attend no key gets zeros.
    """
    lib = library()
    if lib is None or q.device.type != "cpu":
        return None
    rows, heads, queries, dim = q.shape
    keys = k.shape[2]
    qs, ks, vs = q.stride(), k.stride(), v.stride()
    dtype = q.dtype
    if (dtype not in _DTYPES or k.dtype != dtype or v.dtype != dtype or k.shape != v.shape
            or k.shape != (rows, heads, keys, dim) or queries > MAX_QUERIES or dim > lib.attention_max_head_dim
            or keys > lib.attention_max_keys or qs[3] != 1 or ks[3] != 1 or vs[3] != 1):
        return None
    mask, mask_row = 0, 0
    if key_mask is not None:
        # [rows, 1, 1, keys] or [rows, keys], read in place where its keys are contiguous
        if key_mask.dtype != torch.bool or key_mask.numel() != rows * keys:
            return None
        if key_mask.stride(-1) != 1 or key_mask.shape[-1] != keys:
            key_mask = key_mask.reshape(rows, keys).contiguous()
        mask, mask_row = key_mask.data_ptr(), key_mask.stride(0)
    out = torch.empty(rows, queries, heads, dim, dtype=dtype)
    if out.numel():
        status = lib.attention(q.data_ptr(), qs[0], qs[1], qs[2], k.data_ptr(), ks[0], ks[1], ks[2],
                               v.data_ptr(), vs[0], vs[1], vs[2], mask, mask_row,
                               -1 if causal_from is None else causal_from, out.data_ptr(), rows, heads, queries,
                               keys, dim, dim ** -0.5, dtype == torch.bfloat16, torch.get_num_threads())
        if status:
            raise RuntimeError(f"the attention kernel refused {keys} keys of dimension {dim}")
    return out
