"""Products of a few rows with a float32 weight, on the C kernel ``fewrows.c`` (see :mod:`~polymodal.model.native`).

A beam-search step multiplies its few hypotheses (5 at batch 1) by every decoder weight. At 2-8 rows MKL's and
oneDNN's GEMMs read a 512 x 512 float32 weight at 10-16 GB/s, half of what one row's products reach, so beam
search spent a third of its time there. The kernel streams once a copy of the weight packed in blocks of 64
output columns stored input-major, each row's 64 partial sums held in registers: at 5 rows, 512 x 512 in 46
against 76 us for oneDNN, 2048 -> 512 in 160 against 240 (2 threads, weights out of cache). Each output is a
sum in input order, so results do not depend on the thread count.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .native import Library, library

__all__ = ["FewRowsWeight", "MIN_ROWS", "MAX_ROWS"]

#: Fewest rows a decoder step multiplies on the kernel: a single row's product on row blocks (see
#: :class:`~polymodal.model.stepping.LinearT`) is as fast there (43 against 45 us on 512 x 512, 152 against
#: 154 on 2048 -> 512), and needs no packed copy. The head takes the kernel from one row on.
MIN_ROWS = 2

#: Most rows the kernel takes; at 8 it is still 10-15% faster than oneDNN, beyond that arithmetic bounds it.
MAX_ROWS = 8


class FewRowsWeight:
    """A float32 CPU ``[out, in]`` weight (and bias) packed for :func:`kernel`: ``x @ weight.T + bias`` for
    ``x`` of 1 to :data:`MAX_ROWS` rows. Build it with :meth:`of`."""

    def __init__(self, lib: Library, packed: Tensor, bias: Tensor | None, out: int, inp: int) -> None:
        self._lib, self.packed, self.bias, self.out, self.inp = lib, packed, bias, out, inp

    @classmethod
    def of(cls, weight: Tensor, bias: Tensor | None) -> "FewRowsWeight | None":
        """Pack ``weight`` (contiguous), or None where the kernel is unavailable or does not take it."""
        lib = library()
        if lib is None or weight.dtype != torch.float32 or weight.device.type != "cpu" or weight.dim() != 2:
            return None
        out, inp = weight.shape
        weight = weight.contiguous()
        packed = torch.empty(-(-out // lib.block) * inp * lib.block, dtype=torch.float32)
        lib.pack(weight.data_ptr(), out, inp, packed.data_ptr(), torch.get_num_threads())
        if bias is not None:
            bias = bias.detach().to(torch.float32).contiguous()
        return cls(lib, packed, bias, out, inp)

    def __call__(self, x: Tensor) -> Tensor:
        """``x`` (``[n, in]`` float32, ``1 <= n <= MAX_ROWS``) times the weight: ``[n, out]``."""
        n = x.shape[0]
        if x.dim() != 2 or x.shape[1] != self.inp or not 1 <= n <= MAX_ROWS:
            raise ValueError(f"the few-row product takes [1..{MAX_ROWS}, {self.inp}], got {tuple(x.shape)}")
        if x.stride(-1) != 1 or x.dtype != torch.float32:
            x = x.float().contiguous()
        y = torch.empty(n, self.out, dtype=torch.float32)
        status = self._lib.linear(x.data_ptr(), n, x.stride(0), self.packed.data_ptr(), self.out, self.inp,
                                  None if self.bias is None else self.bias.data_ptr(), y.data_ptr(),
                                  torch.get_num_threads())
        if status:
            raise RuntimeError(f"the few-row kernel refused {n} rows")
        return y
