from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from polymodal.model import label_smoothed_loss


def test_hand_computation_over_allowed_columns_only():
    logits = torch.tensor([[2.0, 1.0, 0.0, 5.0]])
    allowed = torch.tensor([[True, True, True, False]])
    eps = 0.3
    loss, nll, n = label_smoothed_loss(logits, torch.tensor([1]), eps, allowed)
    z = math.log(math.exp(2.0) + math.exp(1.0) + math.exp(0.0))
    lp = [2.0 - z, 1.0 - z, 0.0 - z]
    # 1 - eps on the target, eps / 2 on each of the two other allowed columns, nothing on column 3.
    expected = -((1 - eps) * lp[1] + eps / 2 * lp[0] + eps / 2 * lp[2])
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert nll.item() == pytest.approx(-lp[1], rel=1e-6)
    assert n.item() == 1


def test_unconstrained_matches_torch_label_smoothing_rescaled():
    torch.manual_seed(0)
    logits, target = torch.randn(7, 11), torch.randint(0, 11, (7,))
    eps = 0.1
    loss, nll, n = label_smoothed_loss(logits, target, eps)
    # torch spreads eps' / C over all C columns (target included); eps' = eps * C / (C - 1) is the same
    # distribution as 1 - eps on the target and eps / (C - 1) on each other column.
    ref = F.cross_entropy(logits, target, label_smoothing=eps * 11 / 10, reduction="sum")
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    assert nll.item() == pytest.approx(F.cross_entropy(logits, target, reduction="sum").item(), rel=1e-5)
    assert n.item() == 7


def test_epsilon_zero_is_cross_entropy_over_allowed():
    torch.manual_seed(1)
    logits, target = torch.randn(5, 6), torch.tensor([0, 1, 2, 3, 4])
    allowed = torch.rand(5, 6) > 0.4
    allowed[torch.arange(5), target] = True
    loss, nll, _ = label_smoothed_loss(logits, target, 0.0, allowed)
    ref = F.cross_entropy(logits.masked_fill(~allowed, float("-inf")), target, reduction="sum")
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    assert nll.item() == pytest.approx(ref.item(), rel=1e-5)


def test_single_allowed_column_has_zero_loss_and_finite_gradient():
    logits = torch.randn(2, 5, requires_grad=True)
    allowed = torch.zeros(2, 5, dtype=torch.bool)
    allowed[0, 3] = True
    allowed[1, 1:3] = True
    loss, nll, n = label_smoothed_loss(logits, torch.tensor([3, 2]), 0.1, allowed)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert logits.grad[0].abs().max() == 0  # a forced position teaches nothing
    # Row 1: two allowed columns, all smoothing mass on the other one.
    lp = torch.log_softmax(logits.detach()[1, 1:3], dim=0)
    assert loss.item() == pytest.approx(-(0.9 * lp[1] + 0.1 * lp[0]).item(), rel=1e-5)


def test_ignored_positions_contribute_nothing_even_when_degenerate():
    torch.manual_seed(2)
    logits = torch.randn(4, 6, requires_grad=True)
    target = torch.tensor([1, -100, 2, 5])
    allowed = torch.ones(4, 6, dtype=torch.bool)
    allowed[2] = False          # nothing allowed, but weight 0
    allowed[3, 5] = False       # target disallowed, but weight 0
    weight = torch.tensor([1.0, 1.0, 0.0, 0.0])
    loss, nll, n = label_smoothed_loss(logits, target, 0.1, allowed, weight)
    loss.backward()
    assert n.item() == 1
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert logits.grad[1:].abs().max() == 0
    alone, _, _ = label_smoothed_loss(logits.detach()[:1], target[:1], 0.1, allowed[:1])
    assert loss.item() == pytest.approx(alone.item(), rel=1e-6)


def test_weights_scale_positions():
    torch.manual_seed(3)
    logits, target = torch.randn(3, 4), torch.tensor([0, 1, 2])
    one, _, _ = label_smoothed_loss(logits, target, 0.2)
    half, _, n = label_smoothed_loss(logits, target, 0.2, weight=torch.full((3,), 0.5))
    assert half.item() == pytest.approx(one.item() / 2, rel=1e-6) and n.item() == 3


def test_bf16_logits_are_computed_in_float32():
    torch.manual_seed(4)
    logits, target = torch.randn(3, 8), torch.tensor([1, 2, 3])
    a, _, _ = label_smoothed_loss(logits.bfloat16(), target, 0.1)
    assert a.dtype == torch.float32
    b, _, _ = label_smoothed_loss(logits.bfloat16().float(), target, 0.1)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(epsilon=1.0), "epsilon"),
    (dict(allowed=torch.ones(2, 3, dtype=torch.bool)), "allowed"),
    (dict(weight=torch.ones(3)), "weight"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        label_smoothed_loss(torch.randn(2, 4), torch.tensor([0, 1]), **{"epsilon": 0.1, **kwargs})


def test_ordinal_targets_charge_by_distance_and_keep_the_mode_on_the_target():
    # columns 0-3: text; 4-13: ten ordered bins. Three positions aim at bin 6 (column 10).
    logits = torch.full((3, 14), -4.0)
    logits[0, 10] = 4.0   # right on the target
    logits[1, 11] = 4.0   # one bin off
    logits[2, 4] = 4.0    # six bins off
    target = torch.tensor([10, 10, 10])
    allowed = torch.zeros(3, 14, dtype=torch.bool)
    allowed[:, 4:14] = True
    per_row = [label_smoothed_loss(logits[i:i + 1], target[i:i + 1], 0.1, allowed=allowed[i:i + 1],
                                   ordinal=[(4, 14)], ordinal_sigma=1.0)[0].item() for i in range(3)]
    plain = [label_smoothed_loss(logits[i:i + 1], target[i:i + 1], 0.1, allowed=allowed[i:i + 1])[0].item()
             for i in range(3)]
    assert per_row[0] < per_row[1] < per_row[2]
    assert abs(plain[1] - plain[2]) < 1e-4  # plain smoothing charges one bin off like six bins off
    # the best distribution under the Gaussian target still peaks at the target
    free = torch.zeros(1, 14, requires_grad=True)
    opt = torch.optim.SGD([free], lr=1.0)
    for _ in range(300):
        opt.zero_grad()
        label_smoothed_loss(free, torch.tensor([10]), 0.1, allowed=allowed[:1], ordinal=[(4, 14)])[0].backward()
        opt.step()
    assert int(free[0, 4:].argmax()) + 4 == 10
    # the reported NLL is the plain one, and positions outside the ordered range keep label smoothing
    loss, nll, n = label_smoothed_loss(logits, target, 0.1, allowed=allowed, ordinal=[(4, 14)])
    assert torch.isclose(nll, label_smoothed_loss(logits, target, 0.1, allowed=allowed)[1])
    text = torch.tensor([1, 1, 1])
    assert torch.isclose(label_smoothed_loss(logits, text, 0.1, ordinal=[(4, 14)])[0],
                         label_smoothed_loss(logits, text, 0.1)[0])
