"""Label-smoothed cross-entropy that respects decoding constraints.

The target distribution puts ``1 - epsilon`` on the target column and spreads ``epsilon`` evenly over the
*other allowed* columns (OFASys's constraint-aware smoothing): a closed-set answer is smoothed over the
other answers' tokens, never over the whole vocabulary, and a forced position (one allowed column) is
not smoothed at all. Disallowed columns get ``-inf`` logits before the log-softmax, as at decoding time,
so training and generation see the same distribution.

Ordered token spaces (location bins: neighbouring tokens are neighbouring values) can instead take a target
spread over the target's neighbours, a Gaussian of ``ordinal_sigma`` bins around it (``ordinal=``): a box
corner one bin off then costs little and one far off costs much, where plain cross-entropy charges both alike.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

__all__ = ["label_smoothed_loss"]


def label_smoothed_loss(logits: Tensor, target: Tensor, epsilon: float = 0.1,
                        allowed: Tensor | None = None,
                        weight: Tensor | None = None, ordinal: Sequence[tuple[int, int]] = (),
                        ordinal_sigma: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    """Sum of label-smoothed token losses.

    Args:
        logits: ``[N, C]`` scores over the head's columns (any float dtype; computed in float32).
        target: ``LongTensor[N]`` column index of each target. Positions with weight 0 or a negative
            target are ignored whatever their value.
        epsilon: smoothing mass in ``[0, 1)``; 0 gives plain cross-entropy.
        allowed: ``BoolTensor[N, C]``, True where a column may be produced at that position, or None for
            all columns. Each counted position's target must be allowed (its loss is infinite otherwise).
        weight: ``FloatTensor[N]`` per-position weight; 0 for padding and ``no_loss`` positions.
        ordinal: column ranges ``[lo, hi)`` of ordered spaces. A position whose target lies in one takes a
            Gaussian target of ``ordinal_sigma`` columns around it (restricted to the range and the allowed
            columns) instead of the label-smoothed one.
        ordinal_sigma: width of that Gaussian in columns; 0 turns ordinal smoothing off.

    Returns:
        ``(loss_sum, nll_sum, n_tokens)``: weighted sums of the smoothed loss and of the plain negative
        log-likelihood over counted positions, and the number of counted positions (a float tensor).
        Callers divide by ``n_tokens`` of each task to average per task.

    Raises:
        ValueError: on mismatched shapes or an ``epsilon`` outside ``[0, 1)``.
    """
    if logits.dim() != 2:
        raise ValueError(f"logits must be [N, C], got shape {tuple(logits.shape)}")
    n, c = logits.shape
    if target.shape != (n,):
        raise ValueError(f"target must be [{n}], got shape {tuple(target.shape)}")
    if allowed is not None and allowed.shape != (n, c):
        raise ValueError(f"allowed must be [{n}, {c}], got shape {tuple(allowed.shape)}")
    if weight is not None and weight.shape != (n,):
        raise ValueError(f"weight must be [{n}], got shape {tuple(weight.shape)}")
    if not 0.0 <= epsilon < 1.0:
        raise ValueError(f"epsilon must be in [0, 1), got {epsilon}")
    if ordinal_sigma < 0:
        raise ValueError(f"ordinal_sigma must be >= 0, got {ordinal_sigma}")

    if allowed is not None and bool(allowed.all()):
        # Nothing is constrained: the unmasked path saves three passes over the [N, C] logits.
        allowed = None
    counted = target >= 0
    w = counted.to(torch.float32)
    if weight is not None:
        w = w * weight.to(torch.float32)
        counted = counted & (weight != 0)
    # Ignored positions may hold any target value (e.g. -100); point them at column 0 so gather is safe.
    safe_target = torch.where(counted, target, torch.zeros_like(target))

    x = logits.float()
    if allowed is not None:
        x = x.masked_fill(~allowed, float("-inf"))
        # A row with nothing allowed (only possible at ignored positions) would be all -inf: NaN.
        x = x.masked_fill(~allowed.any(dim=1, keepdim=True), 0.0)
    lprobs = torch.log_softmax(x, dim=-1)
    nll = -lprobs.gather(1, safe_target[:, None]).squeeze(1)

    if epsilon > 0:
        if allowed is None:
            n_allowed = torch.full((n,), float(c), device=logits.device)
            smooth = -lprobs.sum(dim=-1)
        else:
            n_allowed = allowed.sum(dim=-1).to(torch.float32)
            # -inf at disallowed columns must not enter the sum (and -inf * 0 would be NaN).
            smooth = -lprobs.masked_fill(~allowed, 0.0).sum(dim=-1)
        # Mass eps/(k-1) on each of the k-1 other allowed columns, 1-eps on the target:
        # loss = (1 - eps - eps_i) * nll + eps_i * sum_allowed(-lprob), with eps_i = eps / (k - 1).
        others = n_allowed - 1.0
        eps_i = torch.where(others > 0, epsilon / others.clamp(min=1.0), torch.zeros_like(others))
        eps_eff = torch.where(others > 0, torch.full_like(others, epsilon), torch.zeros_like(others))
        loss = (1.0 - eps_eff - eps_i) * nll + eps_i * smooth
    else:
        loss = nll
    if ordinal and ordinal_sigma > 0:
        loss = _ordinal(loss, lprobs, safe_target, counted, allowed, ordinal, ordinal_sigma)
    # where(), not multiplication: an ignored position may hold inf, and inf * 0 is NaN.
    loss = torch.where(counted, loss * w, torch.zeros_like(loss))
    nll = torch.where(counted, nll * w, torch.zeros_like(nll))
    return loss.sum(), nll.sum(), counted.sum().to(torch.float32)


def _ordinal(loss: Tensor, lprobs: Tensor, target: Tensor, counted: Tensor, allowed: Tensor | None,
             ranges: Sequence[tuple[int, int]], sigma: float) -> Tensor:
    """Replace the loss of positions whose target lies in an ordered range by the cross-entropy against a
    Gaussian around the target (only the few such positions pay for the ``[n, C]`` target)."""
    lo = torch.full_like(target, -1)
    hi = torch.full_like(target, -1)
    for a, b in ranges:
        inside = (target >= a) & (target < b)
        lo = torch.where(inside, torch.full_like(target, a), lo)
        hi = torch.where(inside, torch.full_like(target, b), hi)
    rows = torch.nonzero(counted & (lo >= 0)).squeeze(1)
    if rows.numel() == 0:
        return loss
    cols = torch.arange(lprobs.shape[1], device=lprobs.device)
    t, a, b = target[rows, None], lo[rows, None], hi[rows, None]
    keep = (cols >= a) & (cols < b)
    if allowed is not None:
        keep = keep & allowed[rows]
    g = torch.exp(-0.5 * ((cols - t).float() / sigma) ** 2).masked_fill(~keep, 0.0)
    g = g / g.sum(dim=1, keepdim=True)  # the target column itself is always kept, so the sum is > 0
    soft = -(g * lprobs[rows].masked_fill(~keep, 0.0)).sum(dim=1)
    return loss.index_copy(0, rows, soft)
