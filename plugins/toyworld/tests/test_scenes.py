"""Image scenes and their renders: exact boxes, captions, unique referring expressions, held-out pairs, speed."""
from __future__ import annotations

import io
import random
import time

import numpy as np
import pytest

from polymodal_plugin_toyworld import World, vocab
from polymodal_plugin_toyworld.render import encode_png, mask_box, object_mask, write_png
from polymodal_plugin_toyworld.scenes import (
    ImageScene, grounding_scene, layout, random_image_scene, referring_expressions,
)


def _scenes(n=200, split="train", canvas=64, seed=0):
    world = World(seed=seed)
    rng = world.rng(split, "test-scenes")
    return [random_image_scene(world, rng, split, canvas=canvas) for _ in range(n)]


def test_same_seed_same_scenes_and_pixels():
    a, b = _scenes(20), _scenes(20)
    assert a == b
    assert all(np.array_equal(x.render(), y.render()) for x, y in zip(a, b))
    assert _scenes(20, seed=1) != a


@pytest.mark.parametrize("canvas", [64, 96])
def test_boxes_are_exact_and_objects_never_overlap(canvas):
    for scene in _scenes(150, canvas=canvas):
        pixels = scene.render()
        assert pixels.shape == (canvas, canvas, 3) and pixels.dtype == np.uint8
        drawn = (pixels != np.asarray(scene.background, np.uint8)).any(-1)
        inside = np.zeros_like(drawn)
        for obj, (x0, y0, x1, y1) in zip(scene.objects, scene.boxes):
            assert 0 <= x0 < x1 <= canvas and 0 <= y0 < y1 <= canvas
            region = drawn[y0:y1, x0:x1]
            # Tight: every border row and column of the box holds a pixel of the object.
            assert region[0].any() and region[-1].any() and region[:, 0].any() and region[:, -1].any()
            assert not inside[y0:y1, x0:x1].any(), "boxes overlap"
            inside[y0:y1, x0:x1] = True
            colour = pixels[y0:y1, x0:x1][region]
            assert (colour == vocab.COLOR_RGB[obj.colour]).all()
        assert not (drawn & ~inside).any(), "pixels drawn outside every box"
        large = [b[2] - b[0] for o, b in zip(scene.objects, scene.boxes) if o.size == "large"]
        small = [b[2] - b[0] for o, b in zip(scene.objects, scene.boxes) if o.size == "small"]
        assert not large or not small or min(large) > max(small)


def test_shapes_have_their_fill_ratios():
    ratios = {shape: object_mask(shape, 40).mean() for shape in vocab.SHAPES}
    assert ratios["square"] == 1.0 and abs(ratios["circle"] - np.pi / 4) < 0.02 and abs(ratios["triangle"] - 0.5) < 0.03
    assert mask_box("circle", 11) == (0, 0, 11, 11) and mask_box("triangle", 20)[3] == 20
    assert not object_mask("square", 5).flags.writeable


def test_captions_canonical_first_with_paraphrases():
    for scene in _scenes(50):
        caps = scene.captions()
        assert caps[0] == scene.caption() == scene.scene.caption()
        assert len(caps) == len(set(caps)) >= 4
        for obj in scene.objects:
            assert all(obj.phrase() in c for c in caps)
        assert "material" not in caps[0] and not any(m in " ".join(caps) for m in vocab.MATERIALS)


_PLACES = {"in the top left": "top left", "at the top": "top", "in the top right": "top right",
           "on the left": "left", "in the centre": "centre", "on the right": "right",
           "in the bottom left": "bottom left", "at the bottom": "bottom", "in the bottom right": "bottom right"}


def _matches(scene: ImageScene, expression: str) -> list[int]:
    """Objects an expression can mean, read back from its words (attributes, then an optional location)."""
    place = next((cell for phrase, cell in _PLACES.items() if expression.endswith(" " + phrase)), None)
    said = {w for w in expression.split() if w in vocab.COLORS + vocab.SHAPES + vocab.SIZES}
    return [i for i, obj in enumerate(scene.objects)
            if said <= {obj.colour, obj.shape, obj.size} and place in (None, obj.cell)]


def test_referring_expressions_are_unique_and_need_distractor_aware_attributes():
    world = World(seed=3)
    rng = world.rng("train", "grounding")
    needs_more = 0
    for _ in range(300):
        scene, target = grounding_scene(world, rng, "train")
        assert 3 <= len(scene.objects) <= 5
        for expression in referring_expressions(scene, target):
            assert _matches(scene, expression) == [target], expression
        assert scene.refer(target, random.Random(0)) in referring_expressions(scene, target)
        needs_more += scene.refer(target).count(" ") > 1  # more than "the <shape>"
    assert needs_more > 150  # distractors share the target's shape or colour


def test_held_out_pairs_only_in_test():
    world = World(seed=0)
    held = world.held_out.pairs
    assert held
    seen = {split: set() for split in ("train", "test")}
    for split in seen:
        rng = world.rng(split, "held-out")
        for _ in range(600):
            scene = random_image_scene(world, rng, split)
            seen[split] |= {(o.colour, o.shape) for o in scene.objects}
            g, _ = grounding_scene(world, rng, split)
            seen[split] |= {(o.colour, o.shape) for o in g.objects}
    assert not held & seen["train"]
    assert held <= seen["test"]


def test_layout_rejects_tiny_canvases_and_to_dict_is_json_safe():
    import json

    world = World(seed=0)
    scene = world.scene(random.Random(0), "train", 2)
    with pytest.raises(ValueError):
        layout(scene, random.Random(0), canvas=16)
    placed = layout(scene, random.Random(0), canvas=96, background=(10, 20, 30))
    graph = json.loads(json.dumps(placed.to_dict()))
    assert graph["background"] == [10, 20, 30] and [o["box"] for o in graph["objects"]] == [list(b) for b in placed.boxes]


def test_thousands_of_scenes_per_second():
    world = World(seed=0)
    rng = world.rng("train", "speed")
    start = time.perf_counter()
    for _ in range(2000):
        random_image_scene(world, rng, "train").render()
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{2000 / elapsed:.0f} scenes/s"


def test_png_round_trip(tmp_path):
    image_mod = pytest.importorskip("PIL.Image")
    scene = _scenes(1)[0]
    pixels = scene.render(noise=8)
    assert not np.array_equal(pixels, scene.render()) and np.array_equal(pixels, scene.render(noise=8))
    path = write_png(pixels, tmp_path / "a" / "scene.png")
    assert np.array_equal(np.asarray(image_mod.open(path).convert("RGB")), pixels)
    grey = pixels[..., 0]
    assert np.array_equal(np.asarray(image_mod.open(io.BytesIO(encode_png(grey)))), grey)
    with pytest.raises(ValueError):
        encode_png(pixels.astype(np.float32))
