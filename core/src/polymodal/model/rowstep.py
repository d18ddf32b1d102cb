"""A decoder layer's step for a single row in one call (float32, or bfloat16 weights under autocast), on the C
kernel ``rowstep.c`` (built by :mod:`~polymodal.model.native`).

Greedy search or sampling of one sequence runs every decoder layer on one row per step. Its six products read
the layer's weights at the machine's bandwidth, but the step made about 45 PyTorch calls per layer around them
(layer norms, views, cache writes, attention, activation, residual additions), each of a few microseconds: on
the medium model 0.7 ms of a 1.7 ms decoder step was spent outside the products. The kernel runs the whole
layer on one OpenMP team, the rest between the products on the same threads. A float32 product reads its weight
in its own layout (no copy), a thread streaming a contiguous run of its rows; a bfloat16 one (autocast) reads the
few-row kernel's packed copy, and rounds to bfloat16 where autocast does. Medium greedy search at batch 1 took
0.84x the time in float32 and 0.83x in bfloat16 (interleaved A/B, the same columns).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .layers import DecoderLayer
from .native import Library, library

__all__ = ["RowStep"]

_ACTIVATIONS = {"relu": 0, "gelu": 1, "gelu_tanh": 2}

#: Entries of a layer's parameter array (``P_COUNT`` in ``rowstep.c``): 18 tensors, then the width, the heads,
#: the feed-forward width, the activation and whether the weights are bfloat16.
_PARAMETERS = 23


def _readable(t: Tensor | None, dtype: torch.dtype, optional: bool = True) -> bool:
    """Whether the kernel reads ``t`` as it is: a contiguous CPU tensor of ``dtype`` (or None, if ``optional``)."""
    if t is None:
        return optional
    return t.dtype == dtype and t.device.type == "cpu" and t.is_contiguous()


class RowStep:
    """The decoder's layers bound to the kernel for steps of one row. Build it with :meth:`of`; call it on each
    layer in turn. It keeps the tensors whose memory the kernel reads."""

    def __init__(self, lib: Library, layers: Sequence[DecoderLayer], weights: Sequence) -> None:
        self._lib = lib
        self._keep: list[Tensor] = []
        self._params: list[Tensor] = []
        self._eps: list[Tensor] = []
        #: the weights', caches' and encoder keys' dtype: float32, or bfloat16 (autocast)
        self.dtype = weights[0].qkv.weight.dtype
        bf16 = self.dtype == torch.bfloat16
        for layer, w in zip(layers, weights):
            # float32 weights are read in place; bfloat16 ones as packed for the few-row kernel
            linears = [(lt.few.get().packed, lt.few.get().bias) if bf16 else (lt.weight, lt.bias)
                       for lt in (w.qkv, w.self_out, w.cross_q, w.cross_out, w.fc1, w.fc2)]
            norms = [(n.weight, n.bias) for n in (layer.self_norm, layer.cross_norm, layer.ffn_norm)]
            tensors = [*norms[0], *linears[0], *linears[1], *norms[1], *linears[2], *linears[3], *norms[2],
                       *linears[4], *linears[5]]
            tensors = [None if t is None else t.detach() for t in tensors]
            self._keep.extend(t for t in tensors if t is not None)
            d = layer.self_norm.weight.shape[0]
            values = [0 if t is None else t.data_ptr() for t in tensors]
            values += [d, layer.self_attn.n_heads, w.fc1.weight.shape[0], _ACTIVATIONS[layer.ffn.activation],
                       int(bf16)]
            self._params.append(torch.tensor(values, dtype=torch.int64))
            self._eps.append(torch.tensor([layer.self_norm.eps, layer.cross_norm.eps, layer.ffn_norm.eps],
                                          dtype=torch.float32))
        self._d = layers[0].self_norm.weight.shape[0] if layers else 0
        self._ffn = max((w.fc1.weight.shape[0] for w in weights), default=0)
        self._heads = max((layer.self_attn.n_heads for layer in layers), default=0)

    @classmethod
    def of(cls, layers: Sequence[DecoderLayer], weights: Sequence) -> "RowStep | None":
        """The kernel bound to ``layers`` and their float32 or bfloat16 step weights, or None where it is
        unavailable or does not take them (other dtypes or devices, an unknown activation, layer norms without
        float32 parameters)."""
        lib = library()
        if lib is None or not layers or lib.row_step_parameters() != _PARAMETERS:
            return None
        dtype = weights[0].qkv.weight.dtype
        if dtype not in (torch.float32, torch.bfloat16):
            return None
        for layer, w in zip(layers, weights):
            linears = (w.qkv, w.self_out, w.cross_q, w.cross_out, w.fc1, w.fc2)
            norms = (layer.self_norm, layer.cross_norm, layer.ffn_norm)
            if (layer.ffn.activation not in _ACTIVATIONS
                    or not all(_readable(lt.weight, dtype, False) and _readable(lt.bias, dtype) for lt in linears)
                    or (dtype == torch.bfloat16 and any(lt.few.get() is None for lt in linears))
                    or not all(_readable(n.weight, torch.float32, False) and _readable(n.bias, torch.float32, False)
                               for n in norms)
                    or layer.self_norm.weight.shape[0] % layer.self_attn.n_heads):
                return None
        return cls(lib, layers, weights)

    @staticmethod
    def takes(x: Tensor) -> bool:
        """Whether a step on decoder states ``x`` (``[B, T, d]``) runs on the kernel: one row at one position, in
        float32 on the CPU, outside autograd."""
        return (x.shape[0] == 1 and x.shape[1] == 1 and x.dtype == torch.float32 and x.device.type == "cpu"
                and not torch.is_grad_enabled())

    def __call__(self, i: int, x: Tensor, self_k: Tensor, self_v: Tensor, pos: int, cross_k: Tensor | None,
                 cross_v: Tensor | None, cross_mask: Tensor | None, cross_scale: Tensor | None) -> bool:
        """Run layer ``i`` on ``x`` (``[1, 1, d]``, contiguous float32, updated in place) at position ``pos``,
        writing the new key and value into ``self_k`` / ``self_v`` (``[1, H, T, dh]``, of the weights' dtype).
        Returns False, having done nothing, where the operands' layout does not suit the kernel. Calls from several
        threads at once are safe (each has its own work space)."""
        if not (x.is_contiguous() and self_k.stride(3) == 1 and self_v.stride(3) == 1
                and self_k.stride()[1:3] == self_v.stride()[1:3] and self_k.dtype == self.dtype == self_v.dtype):
            return False
        n_src, ck, cv, ch, cp, mask, scale = 0, 0, 0, 0, 0, 0, None
        if cross_k is not None:
            if (cross_k.shape[0] != 1 or cross_k.stride(3) != 1 or cross_v.stride() != cross_k.stride()
                    or cross_k.dtype != self.dtype or cross_v.dtype != self.dtype):
                return False
            n_src, ck, cv, ch, cp = cross_k.shape[2], cross_k.data_ptr(), cross_v.data_ptr(), *cross_k.stride()[1:3]
            if cross_mask is not None:
                if cross_mask.dtype != torch.bool or cross_mask.stride(-1) != 1:
                    return False
                mask = cross_mask.data_ptr()
            if cross_scale is not None:
                scale = cross_scale.to(torch.float32).contiguous()  # held until the call returns
        scratch = torch.empty(6 * self._d + 2 * self._ffn + self._heads * (pos + 1 + n_src))
        self._lib.row_step(self._params[i].data_ptr(), self._eps[i].data_ptr(), x.data_ptr(), self_k.data_ptr(),
                           self_v.data_ptr(), self_k.stride(1), self_k.stride(2), pos, ck, cv, ch, cp, n_src, mask,
                           0 if scale is None else scale.data_ptr(), scratch.data_ptr(), torch.get_num_threads())
        return True
