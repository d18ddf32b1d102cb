from __future__ import annotations

import shutil
import sys

import pytest
import torch

from polymodal.model import native
from polymodal.model.ranking import top_log_probs

pytestmark = pytest.mark.skipif(not (sys.platform.startswith("linux") and shutil.which("cc")),
                                reason="the C kernels are built on Linux with a C compiler")


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(1)


def reference(logits: torch.Tensor, k: int, banned: list[int]):
    logits = logits.clone()
    logits[:, banned] = float("-inf")
    return torch.log_softmax(logits, dim=-1).topk(k, dim=-1)


# one row and k 1 (greedy), a beam's 5 rows and 2 x 5 columns, many rows; column counts that are and are not a
# multiple of the kernel's 64-column span, fewer columns than one span, and the largest k
@pytest.mark.parametrize("rows, cols, k", [(1, 5000, 1), (5, 5003, 10), (40, 777, 10), (3, 37, 5), (2, 100, 64)])
@pytest.mark.parametrize("threads", [1, 2])
def test_ranking_matches_log_softmax_then_topk(rows, cols, k, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(rows * cols + k)
    logits = torch.randn(rows, cols) * 4
    banned = [0, cols // 2]
    want_lp, want_col = reference(logits, k, banned)
    got_lp, got_col = top_log_probs(logits.clone(), k, banned)
    assert torch.equal(got_col, want_col)
    assert torch.allclose(got_lp, want_lp, atol=2e-6, rtol=1e-6)


def test_ranking_is_exact_at_extreme_logits():
    logits = torch.stack([torch.tensor([1e4, -1e4, 0.0, 9990.0] + [-3e4] * 70), torch.linspace(-5e3, -4e3, 74)])
    want_lp, want_col = reference(logits, 3, [])
    got_lp, got_col = top_log_probs(logits.clone(), 3, [])
    assert torch.isfinite(got_lp).all() and torch.equal(got_col, want_col)
    assert torch.allclose(got_lp, want_lp, atol=1e-5)


def test_rows_with_fewer_allowed_columns_than_k_end_with_minus_infinity():
    logits = torch.full((3, 10), float("-inf"))
    logits[0, 3] = 1.0
    logits[1, [5, 7]] = torch.tensor([2.0, 0.5])
    lp, col = top_log_probs(logits, 3, [])
    assert col[0, 0] == 3 and lp[0, 0] == 0.0 and torch.isneginf(lp[0, 1:]).all()
    assert col[1, :2].tolist() == [5, 7] and torch.allclose(lp[1, :2], torch.log_softmax(torch.tensor([2.0, 0.5]), 0))
    assert torch.isneginf(lp[2]).all()  # nothing allowed: -inf everywhere, no NaN
    for row in col:  # the filler columns are real, distinct columns, as topk's would be
        assert len(set(row.tolist())) == 3 and all(0 <= c < 10 for c in row.tolist())


def test_ranking_refuses_bad_columns_and_leaves_what_it_cannot_rank_to_pytorch():
    logits = torch.randn(2, 50)
    with pytest.raises(ValueError, match="banned columns"):
        top_log_probs(logits, 3, [50])
    assert top_log_probs(logits, native.library().max_k + 1, []) is None
    assert top_log_probs(logits.double(), 3, []) is None
    assert top_log_probs(logits.t(), 3, []) is None  # not contiguous
