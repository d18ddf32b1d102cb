"""Image scenes: toy-world scene graphs laid out on a pixel canvas, with exact boxes and the text about them.

An :class:`ImageScene` places each object of a :class:`~polymodal_plugin_toyworld.world.Scene` (1-4 objects of
3 shapes x 6 colours x 2 sizes, in distinct cells of a 3x3 grid, so they never overlap) at a random spot inside
its cell on a 64x64 or 96x96 canvas. Its boxes are exact: the tight box of the pixels
:func:`~polymodal_plugin_toyworld.render.render` draws. From the same scene come

- captions (:meth:`ImageScene.captions`): the canonical caption first (objects in reading order, as
  :meth:`Scene.caption`), then paraphrases to use as extra references;
- referring expressions (:meth:`ImageScene.refer`): descriptions that match exactly one object, from the
  fewest attributes ("the circle") to a location ("the red circle in the top left") when attributes are not
  enough; :func:`grounding_scene` draws distractors that share the target's shape or colour so that one
  attribute is rarely enough.

Held-out colour-shape pairs (``World.held_out``) appear only in scenes drawn for ``test``.

Usage::

    world = World(seed=0)
    rng = world.rng("train", "captions")
    s = random_image_scene(world, rng, "train", canvas=64)
    pixels, boxes, text = s.render(), s.boxes, s.caption()
    g, target = grounding_scene(world, rng, "train")
    g.refer(target, rng), g.boxes[target]

Thousands of scenes are drawn and rendered per second.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.render import mask_box, render
from polymodal_plugin_toyworld.world import GRID, Scene, ToyObject, World

__all__ = ["CANVAS_SIZES", "VISIBLE", "ImageScene", "layout", "random_image_scene", "grounding_scene",
           "referring_expressions"]

#: Canvas sides the toy tasks use.
CANVAS_SIZES: tuple[int, ...] = (64, 96)
#: Attributes that can be seen in a render (material cannot).
VISIBLE: tuple[str, ...] = ("size", "colour", "shape")
# Attribute subsets tried for a referring expression, fewest first; the shape is always said (head noun).
_REFER_SUBSETS: tuple[tuple[str, ...], ...] = (
    ("shape",), ("colour", "shape"), ("size", "shape"), ("size", "colour", "shape"),
)


def _article(phrase: str) -> str:
    return "an" if phrase[:1] in "aeiou" else "a"


def _where(obj: ToyObject) -> str:
    cell = obj.cell
    if cell == "centre":
        return "in the centre"
    if cell in ("top", "bottom"):
        return f"at the {cell}"
    if cell in ("left", "right"):
        return f"on the {cell}"
    return f"in the {cell}"


@dataclass(frozen=True)
class ImageScene:
    """A scene graph placed on a square canvas.

    Attributes:
        scene: the objects (reading order).
        canvas: the canvas side in pixels.
        origins: top-left pixel ``(x, y)`` of each object's ``side x side`` square.
        sides: each object's square side in pixels.
        background: the RGB background colour.
    """

    scene: Scene
    canvas: int
    origins: tuple[tuple[int, int], ...]
    sides: tuple[int, ...]
    background: tuple[int, int, int]

    @property
    def objects(self) -> tuple[ToyObject, ...]:
        return self.scene.objects

    @cached_property
    def boxes(self) -> tuple[tuple[int, int, int, int], ...]:
        """Exact pixel boxes ``(x0, y0, x1, y1)`` (exclusive ends) of the rendered objects."""
        out = []
        for obj, (x, y), side in zip(self.objects, self.origins, self.sides):
            bx0, by0, bx1, by1 = mask_box(obj.shape, side)
            out.append((x + bx0, y + by0, x + bx1, y + by1))
        return tuple(out)

    def render(self, *, noise: float = 0.0, rng: random.Random | None = None) -> np.ndarray:
        """The picture, ``uint8 [canvas, canvas, 3]`` (see :func:`~polymodal_plugin_toyworld.render.render`)."""
        return render(self, noise=noise, rng=rng)

    # -- text ----------------------------------------------------------------------------------------------
    def caption(self) -> str:
        """The canonical caption: ``"a small red circle and a large blue square"`` (reading order)."""
        return self.scene.caption()

    def captions(self) -> list[str]:
        """The canonical caption, then paraphrases (prefixed, with positions, in reverse order)."""
        canonical = self.caption()
        phrases = [f"{_article(o.phrase())} {o.phrase()}" for o in self.objects]
        placed = " and ".join(f"{p} {_where(o)}" for p, o in zip(phrases, self.objects))
        out = [canonical, f"there is {canonical}", f"an image of {canonical}", placed]
        if len(phrases) > 1:
            out.append(" and ".join(reversed(phrases)))
        return list(dict.fromkeys(out))

    def refer(self, index: int, rng: random.Random | None = None) -> str:
        """A referring expression for object ``index`` that matches no other object.

        Without ``rng``: the first of :func:`referring_expressions` (fewest attributes). With ``rng``: one of the
        attribute-only expressions at random (people over-specify too), or the location form when none is
        unique.
        """
        options = referring_expressions(self, index)
        if rng is None:
            return options[0]
        attribute_only = options[:-1] or options
        return rng.choice(attribute_only)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe scene graph: canvas, background and per object its attributes and box."""
        return {
            "canvas": self.canvas, "background": list(self.background),
            "objects": [{"colour": o.colour, "shape": o.shape, "size": o.size, "material": o.material,
                         "row": o.row, "col": o.col, "box": list(b)} for o, b in zip(self.objects, self.boxes)],
        }


def referring_expressions(scene: ImageScene, index: int) -> list[str]:
    """The unique descriptions of object ``index``: attribute-only ones (fewest attributes first), then always
    a last one with its location ("the red circle in the top left"), unique because cells are distinct."""
    target = scene.objects[index]
    out = []
    for subset in _REFER_SUBSETS:
        matches = [o for o in scene.objects if all(o.get(a) == target.get(a) for a in subset)]
        if len(matches) == 1:
            out.append(f"the {target.phrase(subset)}")
    out.append(f"the {target.phrase(('colour', 'shape'))} {_where(target)}")
    return out


def layout(scene: Scene, rng: random.Random, canvas: int = 64,
           background: tuple[int, int, int] | None = None) -> ImageScene:
    """Place the objects of ``scene`` at random spots inside their grid cells.

    Args:
        scene: objects in distinct cells.
        rng: the random stream.
        canvas: the canvas side (at least 24 pixels).
        background: RGB; default a random pale grey.
    """
    if canvas < 24:
        raise ValueError(f"the canvas needs at least 24 pixels a side, got {canvas}")
    origins, sides = [], []
    for obj in scene.objects:
        side = max(4, int(round(vocab.SIZE_SCALE[obj.size] * canvas)))
        cell = [(int(round(i * canvas / GRID)), int(round((i + 1) * canvas / GRID))) for i in (obj.col, obj.row)]
        xy = [rng.randint(lo, max(lo, hi - side)) for lo, hi in cell]
        origins.append((xy[0], xy[1]))
        sides.append(side)
    if background is None:
        grey = rng.randint(208, 244)
        background = (grey + rng.randint(-6, 6), grey + rng.randint(-6, 6), grey + rng.randint(-6, 6))
    return ImageScene(scene, canvas, tuple(origins), tuple(sides), tuple(int(c) for c in background))


def random_image_scene(world: World, rng: random.Random, split: str = "train",
                       n_objects: int | tuple[int, int] = (1, 4), *, canvas: int = 64,
                       distinct_shapes: bool = False) -> ImageScene:
    """Draw a scene from ``world`` (held-out pairs only in ``test``) and lay it out."""
    return layout(world.scene(rng, split, n_objects, distinct_shapes=distinct_shapes), rng, canvas)


def grounding_scene(world: World, rng: random.Random, split: str = "train",
                    n_objects: int | tuple[int, int] = (3, 5), *, canvas: int = 64) -> tuple[ImageScene, int]:
    """A scene with a target object and distractors that share its shape or colour; returns it and the
    target's index.

    Each distractor keeps the target's shape (half the time) or its colour (a third), else is random, so
    the shortest unique expression usually needs two or three attributes or the location.
    """
    n = n_objects if isinstance(n_objects, int) else rng.randint(*n_objects)
    if not 2 <= n <= GRID * GRID:
        raise ValueError(f"a grounding scene holds 2 to {GRID * GRID} objects, asked for {n}")
    cells = sorted(rng.sample(range(GRID * GRID), n))
    target_cell = rng.choice(cells)
    target = world.random_object(rng, split, row=target_cell // GRID, col=target_cell % GRID)
    objects = []
    for cell in cells:
        if cell == target_cell:
            objects.append(target)
            continue
        roll = rng.random()
        fixed = {"shape": target.shape} if roll < 0.5 else {"colour": target.colour} if roll < 0.83 else {}
        objects.append(world.random_object(rng, split, row=cell // GRID, col=cell % GRID, **fixed))
    return layout(Scene(tuple(objects)), rng, canvas), cells.index(target_cell)

