"""The location pointer: a mixture over the edges that attended cells propose, on the edge the state asks for."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch

from polymodal.model.locating import LocatingHead, LocationPointer, add_block, bins_per_row, spatial_logits


def test_spatial_logits_are_the_log_density_of_the_attention_weighted_mixture():
    attn = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.3, 0.7]])
    mean = torch.tensor([[0.0, 0.9], [0.25, 0.75], [0.5, 0.5]])
    width = torch.tensor([0.05, 0.02, 0.1])
    bins = torch.tensor([21, 21, 11])
    out = spatial_logits(attn, mean, width, bins, 100)
    assert out.shape == (3, 21)  # only as many columns as the most bins any position allows
    assert out[0].argmax() == 0
    top2 = out[1].topk(2).indices.sort().values.tolist()
    assert top2 == [5, 15]  # two candidates stay two peaks: no box between them
    assert out[1, 10] < out[1, 5] - 10
    assert out[2].argmax() == 5  # 11 bins: the fraction 0.5 is bin 5
    sd = 0.05 * 20
    expected = torch.tensor([-0.5 * (b / sd) ** 2 - math.log(sd) for b in range(21)])
    assert torch.allclose(out[0], expected, atol=1e-4)


def test_positions_without_bins_get_nothing_and_widths_stop_at_half_a_bin():
    attn = torch.tensor([[1.0], [1.0]])
    mean = torch.tensor([[0.0], [0.0]])
    out = spatial_logits(attn, mean, torch.full((2,), 1e-9), torch.tensor([11, 0]), 50)
    assert out.shape == (2, 11)
    assert (out[1] == 0).all()
    assert torch.isclose(out[0, 1] - out[0, 0], torch.tensor(-2.0))  # sd 0.5 bins: -(1 / 0.5)^2 / 2
    empty = spatial_logits(attn[:0], mean[:0], torch.ones(0), torch.zeros(0, dtype=torch.long), 50)
    assert empty.shape == (0, 0)


def _pointer(d: int) -> LocationPointer:
    pointer = LocationPointer(d)
    with torch.no_grad():
        pointer.query.weight.copy_(torch.eye(d) * 10)
        pointer.key.weight.copy_(torch.eye(d) * 10)
        for m in (pointer.query, pointer.key, pointer.edges, pointer.read):
            m.bias.zero_()
        pointer.edges.weight.zero_()
        pointer.read.weight.zero_()
        pointer.read.weight[:4, :4] = torch.eye(4) * 50  # state features 0-3 pick the edge x0, y0, x1, y1
    return pointer


def test_the_pointer_attends_to_the_matching_placed_cell_and_reads_the_edge_the_state_asks_for():
    d = 8
    pointer = _pointer(d)
    enc = torch.zeros(1, 3, d)
    enc[0, 1, 5] = 1.0  # the state's feature 5 matches source position 1
    places = torch.tensor([[[0.1, 0.2], [0.7, 0.3], [0.4, 0.9]]])
    placed = torch.tensor([[True, True, False]])
    hidden = torch.zeros(1, 2, d)
    hidden[0, :, 5] = 1.0
    hidden[0, 0, 0] = 1.0  # x0
    hidden[0, 1, 3] = 1.0  # y1
    attn, mean, width = pointer.locate(hidden, pointer.sources(enc), places, placed)
    assert torch.allclose(attn[0, :, 1], torch.ones(2), atol=1e-3)
    assert torch.allclose(mean[0, 0], places[0, :, 0], atol=1e-3)  # no offsets: the cells' centres, x for x0
    assert torch.allclose(mean[0, 1], places[0, :, 1], atol=1e-3)  # and y for y1
    assert torch.allclose(width, torch.ones_like(width))  # log-width 0: the widest
    # a position that is not placed is never attended, however well it matches
    enc[0, 2, 5] = 5.0
    attn, _, _ = pointer.locate(hidden, pointer.sources(enc), places, placed)
    assert (attn[0, :, 2] == 0).all()
    # cells propose edges away from their centres, at most MAX_OFFSET
    with torch.no_grad():
        pointer.edges.bias.copy_(torch.tensor([-100.0, 0.0, 100.0, 0.0]))
    _, mean, _ = pointer.locate(hidden, pointer.sources(enc), places, placed)
    assert torch.allclose(mean[0, 0], places[0, :, 0] - 0.25, atol=1e-4)


def test_rows_without_places_get_no_attention_and_finite_gradients():
    pointer = LocationPointer(8)
    hidden = torch.randn(2, 3, 8, requires_grad=True)
    enc = torch.randn(2, 4, 8)
    placed = torch.tensor([[True, True, False, False], [False] * 4])
    attn, mean, width = pointer.locate(hidden, pointer.sources(enc), torch.rand(2, 4, 2), placed)
    assert torch.allclose(attn[0].sum(-1), torch.ones(3)) and (attn[1] == 0).all()
    bins = torch.tensor([16, 0]).repeat_interleave(3)
    out = spatial_logits(attn.flatten(0, 1), mean.flatten(0, 1), width.flatten(), bins, 16)
    assert (out[3:] == 0).all()
    out.sum().backward()
    assert torch.isfinite(hidden.grad).all()


def test_bins_per_row_come_from_the_programs_and_need_places():
    masks_a = np.zeros((3, 12), dtype=bool)
    masks_a[1, 2:7] = True  # a box state allows 5 bins of the block [2, 12)
    masks_b = np.zeros((2, 12), dtype=bool)
    masks_b[0, 0:2] = True  # never a bin
    machines = [SimpleNamespace(masks=masks_a), SimpleNamespace(masks=masks_b), SimpleNamespace(masks=masks_a)]
    placed = torch.tensor([[True, False], [True, True], [False, False]])
    assert bins_per_row(machines, 2, 12, placed).tolist() == [5, 0, 0]


def test_add_block_adds_only_inside_the_block_and_keeps_gradients():
    logits = torch.zeros(2, 6, requires_grad=True)
    extra = torch.ones(2, 2, requires_grad=True)
    out = add_block(logits, 2, 5, extra)  # 2 of the block's 3 columns
    assert out[:, [0, 1, 4, 5]].eq(0).all() and out[:, 2:4].eq(1).all()
    out.sum().backward()
    assert logits.grad.eq(1).all() and extra.grad.eq(1).all()


def test_locating_head_adds_the_pointer_to_the_wrapped_heads_block_for_each_hypothesis_row():
    torch.manual_seed(0)
    d, n_cols = 8, 10

    class Plain:
        columns, n_columns = torch.arange(n_cols), n_cols

        def prepare(self, dtype=None):
            return self

        def __call__(self, hidden):
            return torch.zeros(hidden.shape[0], n_cols)

    pointer = LocationPointer(d)
    enc = torch.randn(2, 4, d)
    places = torch.rand(2, 4, 2)
    placed = torch.tensor([[True] * 4, [True, True, False, False]])
    bins = torch.tensor([6, 6])
    sources = pointer.sources(enc)
    head = LocatingHead(Plain(), pointer, sources, places, placed, [(4, 10, bins)]).prepare()
    hidden, rows = torch.randn(3, d), torch.tensor([1, 0, 1])
    out = head(hidden, rows)
    assert (out[:, :4] == 0).all()
    attn, mean, width = pointer.locate(hidden[:, None], (sources[0][rows], sources[1][rows]), places[rows],
                                       placed[rows])
    assert torch.allclose(out[:, 4:], spatial_logits(attn[:, 0], mean[:, 0], width[:, 0], bins[rows], 6))
