"""The ``box`` preprocessor: round trips, augmentation, flips, input boxes at inference, bad boxes."""
from __future__ import annotations

import importlib.metadata as md
import random
import subprocess
import sys

import numpy as np
import pytest

from polymodal.errors import DataError, InstructionError
from polymodal.planning.planner import compile_instruction
from polymodal_modality_box.bins import LocationBins, parse_box
from polymodal_modality_image.preprocess import denormalize
from polymodal_modality_image.transform import TRANSFORM_KEY

CAPTION_REGION = "[IMAGE:img] what does the region describe? region: [BOX:region] -> [TEXT:cap]"


def _slots(plan, enc):
    image = next(s for s in plan.slots if s.modality == "IMAGE")
    box = next(s for s in plan.slots if s.modality == "BOX")
    return enc.pre[image.index], enc.pre[box.index]


def _encode_pair(image_pre, box_pre, image, box, *, train, seed=0):
    row = {"img": image, "region": box}
    out = image_pre.encode(image, train=train, rng=random.Random(seed), row=row)
    tokens = box_pre.target(box, train=train, rng=random.Random(seed), row=row)
    return row, out, tokens


@pytest.mark.parametrize("w, h", [(64, 64), (200, 90), (45, 130)])
def test_round_trip_pixels_tokens_pixels_within_one_bin(setup, w, h):
    plan, enc = setup(img=",size=96")
    image_pre, box_pre = _slots(plan, enc)
    rng = np.random.default_rng(w)
    img = np.zeros((h, w, 3), np.uint8)
    offset = enc.ctx.layout.space("box.loc").offset
    for _ in range(20):
        x0, x1 = sorted(rng.uniform(0, w, 2))
        y0, y1 = sorted(rng.uniform(0, h, 2))
        box = [x0, y0, x1 + 0.5, y1 + 0.5]
        row, _, tokens = _encode_pair(image_pre, box_pre, img, box, train=False)
        assert len(tokens) == 4 and all(offset <= t < offset + 1000 for t in tokens)
        back = box_pre.postprocess(tokens, row)
        clipped = [min(box[0], w), min(box[1], h), min(box[2], w), min(box[3], h)]
        bin_w, bin_h = w / 999, h / 999
        for got, want, size in zip(back, clipped, (bin_w, bin_h, bin_w, bin_h)):
            assert abs(got - want) <= size / 2 + 0.011  # half a bin, plus rounding to 2 decimals


def test_box_follows_the_augmented_pixels(setup):
    plan, enc = setup(img=",size=96,crop=0.7,flip=0.5,scale_jitter=0.4,color_jitter=0")
    image_pre, box_pre = _slots(plan, enc)
    img = np.zeros((80, 120, 3), np.uint8)
    box = [60, 20, 84, 44]
    img[20:44, 60:84] = 255
    checked = 0
    for seed in range(10):
        row, out, tokens = _encode_pair(image_pre, box_pre, img, box, train=True, seed=seed)
        t = out["transform"]
        local = [tok - enc.ctx.layout.space("box.loc").offset for tok in tokens]
        u0, v0, u1, v1 = LocationBins(1000).from_bins(local, t.out_w, t.out_h)
        pix = denormalize(out["image"])[: t.out_h, : t.out_w].sum(-1)
        ys, xs = np.nonzero(pix > 3 * 128)
        if len(xs) == 0:
            continue
        # The bright block's extent in the augmented image is the box the tokens describe (within resampling).
        assert abs(xs.min() - u0) <= 1.5 and abs(xs.max() + 1 - u1) <= 1.5
        assert abs(ys.min() - v0) <= 1.5 and abs(ys.max() + 1 - v1) <= 1.5
        # And the postprocessor undoes the augmentation back to the original pixels (of the visible part).
        back = box_pre.postprocess(tokens, row)
        visible = t.invert_box(t.apply_box(box))
        assert np.allclose(back, visible, atol=120 / 999 + 0.02)
        checked += 1
    assert checked >= 5


def test_flipped_image_mirrors_the_x_bins(setup):
    plan, enc = setup(img=",size=64,flip=1,scale_jitter=0")
    image_pre, box_pre = _slots(plan, enc)
    img = np.zeros((50, 100, 3), np.uint8)
    box = [10, 5, 30, 25]
    _, _, plain = _encode_pair(image_pre, box_pre, img, box, train=False)
    row, out, flipped = _encode_pair(image_pre, box_pre, img, box, train=True)
    assert out["transform"].flipped
    assert flipped[1] == plain[1] and flipped[3] == plain[3]
    offset = enc.ctx.layout.space("box.loc").offset
    assert flipped[0] - offset == 999 - (plain[2] - offset) and flipped[2] - offset == 999 - (plain[0] - offset)
    assert np.allclose(box_pre.postprocess(flipped, row), box, atol=0.06)


def test_decoder_box_is_a_four_token_span_and_the_target_holds_it(setup):
    plan, enc = setup()
    span = [seg for seg in plan.program.walk() if seg.kind == "span"]
    assert len(span) == 1 and span[0].space == "box.loc" and span[0].length == 4
    ex = enc.encode({"img": np.zeros((32, 48, 3), np.uint8), "cap": "the red circle", "region": "0,0,24,16"},
                    train=True)
    space = enc.ctx.layout.space("box.loc")
    assert [t for t in ex.target if t in space] == [space.offset + b for b in (0, 0, 500, 500)]



def test_engine_decode_maps_the_box_back_to_pixels(setup):
    plan, enc = setup()
    row = {"img": np.zeros((32, 48, 3), np.uint8), "cap": "the red circle", "region": "6,4,30,20"}
    ex = enc.encode(row, train=False)
    decoded = enc.decode([enc.columns.column(t) for t in ex.target], ex.machine, row=row)
    assert np.allclose(decoded["region"], [6, 4, 30, 20], atol=48 / 999)


def test_input_box_is_kept_at_inference(setup):
    plan, enc = setup(CAPTION_REGION)
    assert next(s for s in plan.slots if s.modality == "BOX").space == "box.loc"
    row = {"img": np.zeros((100, 200, 3), np.uint8), "region": [100, 50, 200, 100]}
    ex = enc.encode(row, train=False)
    space = enc.ctx.layout.space("box.loc")
    assert [t for t in ex.encoder_tokens if t in space] == [space.offset + b for b in (500, 500, 999, 999)]
    assert ex.target is None  # nothing to predict without a caption: inference
    assert TRANSFORM_KEY not in row  # the engine's working copy took the note, not the caller's row


@pytest.mark.parametrize("value, match", [
    ("1,2,nan,4", "NaN"), ([5, 5, 5, 9], "no area"), ([1, 2, 3], "4 numbers"), ("a,b,c,d", "4 numbers"),
    ([300, 300, 400, 400], "outside"), (17, "expected a box"), ({"x": 1}, "keys"),
])
def test_bad_boxes_are_data_errors_naming_the_column(setup, value, match):
    plan, enc = setup()
    row = {"img": np.zeros((40, 60, 3), np.uint8), "cap": "the red circle", "region": value}
    with pytest.raises(DataError, match=match) as info:
        enc.encode(row, train=True, index=3)
    assert info.value.column == "region" and info.value.row == 3


def test_box_parsing_accepts_the_usual_forms():
    want = (1.0, 2.0, 3.5, 4.0)
    for value in ("1,2,3.5,4", "1 2 3.5 4", "[1, 2, 3.5, 4]", (1, 2, 3.5, 4), np.array([1, 2, 3.5, 4]),
                  {"x0": 1, "y0": 2, "x1": 3.5, "y1": 4}):
        assert parse_box(value) == want


def test_several_images_need_the_image_attribute(setup):
    two = "[IMAGE:a] [IMAGE:b] which region? -> [BOX:region{attr}]"
    row = {"a": np.zeros((10, 20, 3), np.uint8), "b": np.zeros((40, 40, 3), np.uint8), "region": [0, 0, 10, 10]}
    _, enc = setup(two.format(attr=""))
    with pytest.raises(DataError, match="image=<column>"):
        enc.encode(row, train=True)
    _, enc = setup(two.format(attr=",image=a"))
    ex = enc.encode(row, train=False)
    space = enc.ctx.layout.space("box.loc")
    assert [t - space.offset for t in ex.target if t in space] == [0, 0, 500, 999]


def test_postprocess_without_notes_uses_the_raw_image_size(setup):
    plan, enc = setup()
    image_pre, box_pre = _slots(plan, enc)
    img = np.zeros((50, 80, 3), np.uint8)
    _, _, tokens = _encode_pair(image_pre, box_pre, img, [8, 5, 40, 25], train=False)
    assert np.allclose(box_pre.postprocess(tokens, {"img": img}), [8, 5, 40, 25], atol=0.05)
    assert box_pre.postprocess(tokens[:3], {"img": img}) is None
    from polymodal_modality_box.preprocess import BoxPreprocessor

    fresh = BoxPreprocessor(box_pre.slot, enc.ctx)
    with pytest.raises(DataError, match="without the row"):
        fresh.postprocess(tokens, None)
    with pytest.raises(DataError, match="no IMAGE"):
        fresh.postprocess(tokens, {"cap": "the red circle"})


def test_num_bins_attribute(setup):
    plan, enc = setup(box=",num_bins=100")
    image_pre, box_pre = _slots(plan, enc)
    img = np.zeros((99, 99, 3), np.uint8)
    row, _, tokens = _encode_pair(image_pre, box_pre, img, [0, 0, 99, 49.5], train=False)
    offset = enc.ctx.layout.space("box.loc").offset
    assert [t - offset for t in tokens] == [0, 0, 99, 50]
    assert np.allclose(box_pre.postprocess(tokens, row), [0, 0, 99, 50], atol=0.01)


def test_num_bins_limits_what_decoding_can_emit(setup):
    plan, enc = setup(box=",num_bins=100")
    span = next(seg for seg in plan.program.walk() if seg.kind == "span")
    assert span.size == 100 and any("(its first 100)" in line for line in plan.program.describe(plan))
    ex = enc.encode({"img": np.zeros((32, 48, 3), np.uint8), "cap": "the red circle", "region": "0,0,24,16"},
                    train=False)
    space = enc.ctx.layout.space("box.loc")
    lo = enc.columns.column(space.offset)
    states = ex.machine.trace([enc.columns.column(t) for t in ex.target])
    for state in states[:4]:
        allowed = np.flatnonzero(ex.machine.allowed(state))
        assert allowed.tolist() == list(range(lo, lo + 100))  # bins 0-99 of the space's 1000, nothing else


def test_planner_needs_an_image_and_spec_is_import_light(registry):
    with pytest.raises(InstructionError, match="IMAGE"):
        compile_instruction("[TEXT:cap] where? -> [BOX:region]", registry)
    with pytest.raises(InstructionError):
        compile_instruction("[IMAGE:img] where? -> [BOX:region,num_bins=5000]", registry)
    eps = {(ep.group, ep.name): ep.value for ep in md.distribution("polymodal-modality-box").entry_points}
    assert eps[("polymodal.heads", "box.head")] == "polymodal_modality_box.spec:HEAD"
    assert eps[("polymodal.adapters", "box.embed")] == "polymodal_modality_box.spec:EMBED"
    code = ("import sys, polymodal_modality_box, polymodal_modality_box.spec; "
            "print(any(m in sys.modules for m in ('torch', 'numpy', 'cv2', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
