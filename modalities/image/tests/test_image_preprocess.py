"""The ``image`` preprocessor: aspect ratio, padding, normalisation, augmentation geometry, the row note."""
from __future__ import annotations

import importlib.metadata as md
import random
import subprocess
import sys

import numpy as np
import pytest

from polymodal.errors import DataError, InstructionError
from polymodal_modality_image.preprocess import denormalize
from polymodal_modality_image.transform import TRANSFORM_KEY, ImageTransform, recorded_transforms


def _encode(pre, value, train=False, seed=0, row=None):
    return pre.encode(value, train=train, rng=random.Random(seed), row={} if row is None else row)


@pytest.mark.parametrize("w, h", [(100, 50), (50, 100), (100, 30), (37, 37), (300, 7)])
def test_aspect_ratio_is_kept_and_padding_reaches_the_stride(make_pre, w, h):
    pre = make_pre(",size=64")
    out = _encode(pre, np.full((h, w, 3), 200, np.uint8))
    t = out["transform"]
    assert max(t.out_w, t.out_h) == 64
    assert abs(t.out_w / t.out_h - w / h) <= (w / h) / min(t.out_w, t.out_h) + 1e-9  # within one pixel's rounding
    image, valid = out["image"], out["valid"]
    assert image.dtype == np.float32 and image.shape[0] == 3
    assert image.shape[1] % 16 == 0 and image.shape[2] % 16 == 0
    assert image.shape[1] - t.out_h < 16 and image.shape[2] - t.out_w < 16
    assert valid.shape == (image.shape[1] // 16, image.shape[2] // 16) and valid.all()
    assert (image[:, t.out_h:, :] == 0).all() and (image[:, :, t.out_w:] == 0).all()
    expected = (200 / 255 - 0.5) / 0.5
    assert np.allclose(image[:, : t.out_h, : t.out_w], expected, atol=1e-5)


def test_normalisations_and_denormalize(make_pre, pattern):
    for norm in ("half", "imagenet"):
        pre = make_pre(f",size=40,stride=8,norm={norm}")
        out = _encode(pre, pattern)
        assert out["image"].shape == (3, 32, 40)  # 40x30 kept as is, padded to 32 rows
        back = denormalize(out["image"], norm)[:30]
        assert np.abs(back.astype(int) - pattern.astype(int)).max() <= 1


def test_evaluation_is_deterministic_and_training_augments(make_pre, pattern):
    pre = make_pre(",size=64,flip=0.5,crop=0.5")
    a, b = _encode(pre, pattern, seed=1), _encode(pre, pattern, seed=2)
    assert np.array_equal(a["image"], b["image"]) and a["transform"] == b["transform"]
    assert a["transform"] == ImageTransform.resize(40, 30, 64, 48)
    trains = [_encode(pre, pattern, train=True, seed=s)["transform"] for s in range(12)]
    assert len(set(trains)) == 12
    assert any(t.flipped for t in trains) and not all(t.flipped for t in trains)
    same = [_encode(pre, pattern, train=True, seed=5) for _ in range(2)]
    assert np.array_equal(same[0]["image"], same[1]["image"])


def test_augment_off_means_evaluation_geometry_in_training(make_pre, pattern):
    pre = make_pre(",size=64,augment=false,flip=1")
    out = _encode(pre, pattern, train=True, seed=3)
    assert out["transform"] == ImageTransform.resize(40, 30, 64, 48)


def _bright_centre(image: np.ndarray, t: ImageTransform) -> tuple[float, float]:
    pix = denormalize(image).astype(float).sum(-1)[: t.out_h, : t.out_w]
    ys, xs = np.nonzero(pix > (pix.min() + pix.max()) / 2)
    return xs.mean() + 0.5, ys.mean() + 0.5


def test_augmentation_transform_maps_points_where_the_pixels_moved(make_pre):
    checked = 0
    for seed in range(40):
        checked += _check_marker(make_pre, seed)
    assert checked >= 8  # seeds whose random crop kept the marker inside the image


def _check_marker(make_pre, seed: int) -> bool:
    src = np.zeros((90, 120, 3), np.uint8)
    x0, y0 = 70 + seed % 8, 30 + 2 * (seed % 8)
    src[y0:y0 + 6, x0:x0 + 6] = 255  # a white 6x6 block, centre (x0+3, y0+3)
    pre = make_pre(",size=96,crop=0.6,flip=0.5,scale_jitter=0.4")
    row: dict = {}
    out = pre.encode(src, train=True, rng=random.Random(seed), row=row)
    t = out["transform"]
    if not 6 <= t.apply(x0 + 3, y0 + 3)[0] <= t.out_w - 6 or not 6 <= t.apply(x0 + 3, y0 + 3)[1] <= t.out_h - 6:
        return False  # the random crop cut the marker off
    u, v = t.apply(x0 + 3, y0 + 3)
    cu, cv = _bright_centre(out["image"], t)
    assert abs(cu - u) < 1.0 and abs(cv - v) < 1.0
    back = t.invert(cu, cv)
    assert abs(back[0] - (x0 + 3)) < 1.5 and abs(back[1] - (y0 + 3)) < 1.5
    assert recorded_transforms(row) == {"img": t}
    return True


def test_flip_moves_the_marker_to_the_other_side(make_pre):
    src = np.zeros((40, 80, 3), np.uint8)
    src[10:20, 5:15] = 255
    pre = make_pre(",size=80,flip=1,scale_jitter=0,color_jitter=0")
    out = _encode(pre, src, train=True)
    t = out["transform"]
    assert t.flipped and t.apply(10, 15) == (70, 15)
    cu, cv = _bright_centre(out["image"], t)
    assert abs(cu - 70) < 0.6 and abs(cv - 15) < 0.6


def test_the_row_note_is_kept_per_column_and_never_shared(make_pre, pattern):
    pre = make_pre(",size=32")
    original = {"img": pattern, TRANSFORM_KEY: {"other": ImageTransform.resize(1, 1, 1, 1)}}
    row = dict(original)  # the engine's shallow working copy
    _encode(pre, pattern, row=row)
    assert set(row[TRANSFORM_KEY]) == {"other", "img"}
    assert set(original[TRANSFORM_KEY]) == {"other"}


def test_errors_name_the_column(make_pre):
    pre = make_pre("")
    with pytest.raises(DataError) as info:
        _encode(pre, "missing.png")
    assert info.value.column == "img"


def test_attribute_schema_is_enforced():
    from polymodal.planning.planner import compile_instruction
    from polymodal.testing import isolated_registry
    from polymodal_modality_image import spec

    reg = isolated_registry(spec.IMAGE, spec.PREPROCESS, spec.RESNET, spec.VIT, spec.SMALL, fakes=True)
    for bad in (",size=8", ",flip=2", ",norm=bogus", ",sizes=64"):
        with pytest.raises(InstructionError):
            compile_instruction(f"[IMAGE:img{bad}] what? -> [TEXT:cap]", reg)
    plan = compile_instruction("[IMAGE:img,adapter=image.small] what? -> [TEXT:cap]", reg)
    assert plan.slots[0].adapter.name == "image.small" and plan.slots[0].space is None
    assert compile_instruction("[IMAGE:img] what? -> [TEXT:cap]", reg).slots[0].adapter.name == "image.resnet"
    with pytest.raises(InstructionError):
        compile_instruction("[TEXT:q] -> [IMAGE:img]", reg)  # no decoder-side image head yet


def test_entry_points_and_import_lightness():
    eps = {(ep.group, ep.name): ep.value for ep in md.distribution("polymodal-modality-image").entry_points}
    assert eps[("polymodal.modalities", "image")] == "polymodal_modality_image.spec:IMAGE"
    assert {n for g, n in eps if g == "polymodal.adapters"} == {"image.resnet", "image.vit", "image.small"}
    code = ("import sys, polymodal_modality_image.spec, polymodal_modality_image.transform; "
            "print(any(m in sys.modules for m in ('torch', 'numpy', 'PIL', 'timm')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
