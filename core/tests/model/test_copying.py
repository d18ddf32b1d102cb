"""The pointer-generator mixture: a distribution over the head's columns, and copying reaches unseen tokens."""
from __future__ import annotations

import torch

from polymodal.model.copying import CopyGate, mix


def test_mixture_is_a_distribution_and_copies_what_the_pointer_points_at():
    torch.manual_seed(0)
    logits = torch.randn(3, 7)
    attn = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    cols = torch.tensor([[2, 5, -1], [4, 4, -1], [1, 6, 6]])
    for g in (0.0, 0.3, 1.0):
        gate = torch.full((3, 1), g)
        p = mix(logits, attn, gate, cols).exp()
        assert torch.allclose(p.sum(1), torch.ones(3), atol=1e-5)
        expected = g * torch.softmax(logits, -1)
        expected[0, 5] += 1 - g
        expected[1, 4] += 1 - g
        expected[2, 1] += 0.2 * (1 - g)
        expected[2, 6] += 0.8 * (1 - g)
        assert torch.allclose(p, expected, atol=1e-5)


def test_attention_skips_positions_that_cannot_be_copied_and_rows_with_none_generate():
    gate = CopyGate(8)
    hidden, keys = torch.randn(2, 3, 8), torch.randn(2, 4, 8)
    copyable = torch.tensor([[True, False, True, False], [False, False, False, False]])
    attn, g = gate.attend(hidden, keys, copyable)
    assert torch.allclose(attn[0].sum(-1), torch.ones(3))
    assert (attn[0][:, ~copyable[0]] == 0).all()
    assert (attn[1] == 0).all() and (g[1] == 1).all()
    assert not torch.isnan(attn).any()


def test_gradients_stay_finite_where_nothing_is_copied():
    logits = torch.randn(2, 5, requires_grad=True)
    attn = torch.tensor([[1.0, 0.0], [0.0, 0.0]], requires_grad=True)
    gate = torch.tensor([[0.5], [1.0]], requires_grad=True)
    mix(logits, attn, gate, torch.tensor([[3, -1], [-1, -1]]))[:, 0].sum().backward()
    for t in (logits, attn, gate):
        assert torch.isfinite(t.grad).all()
