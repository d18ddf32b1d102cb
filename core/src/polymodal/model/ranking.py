"""The best columns of rows of logits and their log-probabilities, on the C kernel ``toplogprobs.c``.

``log_softmax(logits).topk(k)`` passes over the ``[N, C]`` logits three times (maximum, sum of exponentials,
then the ranking), with a full-size write between them. The kernel makes one pass per part of a row (one part
per thread): the ``k`` best columns, the maximum and the sum of ``exp(x - max)``, rescaled whenever the maximum
grows; the parts are then merged. At 50k columns, 2 threads: 64 against 419 us at 5 rows and k 10, 20 against
233 at one row and k 1, 1.0 against 15 ms at 80 rows (see :mod:`~polymodal.model.native` for the build).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .native import library

__all__ = ["top_log_probs"]


def top_log_probs(logits: Tensor, k: int, banned: Sequence[int] = ()) -> tuple[Tensor, Tensor] | None:
    """``log_softmax(logits with banned columns at -inf).topk(k)``, best first, or None where the kernel is
    unavailable or does not take these logits (then compute it with PyTorch).

    Args:
        logits: ``[N, C]`` float32 CPU logits; the banned columns are set to ``-inf`` in place.
        k: columns wanted per row, at most ``C``.
        banned: columns that may not be chosen and carry no probability (e.g. the pad column).

    Returns:
        ``(log_probs, columns)``, ``[N, k]`` each. A row with fewer than ``k`` allowed columns ends with
        ``-inf`` log-probabilities on other columns, as ``topk`` would.
    """
    lib = library()
    if (lib is None or logits.dtype != torch.float32 or logits.device.type != "cpu" or logits.dim() != 2
            or not 1 <= k <= min(lib.max_k, logits.shape[1]) or not logits.is_contiguous()):
        return None
    n, c = logits.shape
    if any(not 0 <= col < c for col in banned):
        raise ValueError(f"banned columns must be in [0, {c}), got {list(banned)}")
    bans = torch.tensor(list(banned), dtype=torch.long)
    values = torch.empty(n, k, dtype=torch.float32)
    columns = torch.empty(n, k, dtype=torch.long)
    if n:
        status = lib.top_log_probs(logits.data_ptr(), n, c, k, bans.data_ptr(), bans.numel(), values.data_ptr(),
                                   columns.data_ptr(), torch.get_num_threads())
        if status:
            raise RuntimeError(f"the ranking kernel refused k={k} for {c} columns")
    return values, columns
