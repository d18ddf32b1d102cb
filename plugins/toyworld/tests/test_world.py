"""Tests of scenes, objects and their descriptions."""
from __future__ import annotations

import pytest

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.world import ToyObject, World


def test_scenes_are_deterministic_and_well_formed():
    world = World(seed=4)
    again = World(seed=4)
    assert world.scene(world.rng("train", "t")) == again.scene(again.rng("train", "t"))
    assert world.scene(world.rng("train", "t")) != world.scene(world.rng("test", "t"))
    rng = world.rng("train", "many")
    for _ in range(300):
        scene = world.scene(rng, "train", (1, 4))
        cells = [(o.row, o.col) for o in scene.objects]
        assert 1 <= len(scene) <= 4
        assert len(set(cells)) == len(cells)
        assert cells == sorted(cells)  # reading order
        for o in scene.objects:
            assert o.colour in vocab.COLORS and o.shape in vocab.SHAPES and o.size in vocab.SIZES


def test_distinct_shapes_make_shape_names_unique():
    world = World(seed=0)
    rng = world.rng("valid")
    for _ in range(100):
        scene = world.scene(rng, "valid", 3, distinct_shapes=True)
        assert sorted(o.shape for o in scene.objects) == sorted(vocab.SHAPES)
    with pytest.raises(ValueError):
        world.scene(rng, "valid", 4, distinct_shapes=True)


def test_held_out_colour_shape_pairs_appear_in_test_only():
    world = World(seed=2, held_out=2)
    assert len(world.held_out.pairs) == 2
    pairs = {s: set() for s in ("train", "valid", "test")}
    for split in pairs:
        rng = world.rng(split)
        for _ in range(400):
            for o in world.scene(rng, split, 4).objects:
                pairs[split].add((o.colour, o.shape))
    assert not pairs["train"] & world.held_out.pairs
    assert not pairs["valid"] & world.held_out.pairs
    assert world.held_out.pairs <= pairs["test"]
    # every colour and every shape is still seen in training
    assert {c for c, _ in pairs["train"]} == set(vocab.COLORS)
    assert {s for _, s in pairs["train"]} == set(vocab.SHAPES)


def test_describe_and_caption_say_exactly_what_is_asked():
    scene_objects = (ToyObject("red", "circle", "small", "metal", 0, 0),
                     ToyObject("blue", "square", "large", "glass", 1, 1))
    from polymodal_plugin_toyworld.world import Scene
    scene = Scene(scene_objects)
    text = scene.describe([("colour",), ("size", "material")])
    assert text == ("there is a red circle in the top left . "
                    "there is a large glass square in the centre .")
    assert scene.caption() == "a small red circle and a large blue square"
    assert scene.describe(positions=False) == ("there is a small red metal circle . "
                                               "there is a large blue glass square .")
    assert scene.find(shape="square") == [scene_objects[1]]


def test_relations_follow_grid_positions():
    a = ToyObject("red", "circle", "small", "metal", row=0, col=0)
    b = ToyObject("blue", "square", "large", "glass", row=2, col=1)
    assert a.relation_to(b) == ["left of", "above"]
    assert b.relation_to(a) == ["right of", "below"]
    assert a.x < b.x and a.y < b.y
    assert a.with_value("colour", "green").colour == "green"
    with pytest.raises(KeyError):
        a.get("weight")


def test_other_value_flips():
    world = World(0)
    rng = world.rng("train")
    for attr in ("colour", "size", "material", "shape"):
        for value in World.values(attr):
            assert world.other_value(rng, attr, value) != value
