"""The toy world: seeded scenes of coloured shapes, with text that describes them exactly.

A :class:`Scene` is a small scene graph: 1-4 :class:`ToyObject` s (colour, shape, size, material) placed in
distinct cells of a 3x3 grid. Every toy task draws from the same world, so one scene can be rendered as an
image, captioned, questioned and turned into entailment pairs, always with exact ground truth.

Usage::

    from polymodal_plugin_toyworld import World
    world = World(seed=0)
    rng = world.rng("train", "my-task")
    scene = world.scene(rng, "train", n_objects=3, distinct_shapes=True)
    scene.describe()   # 'there is a small red metal circle in the top left . there is ...'

The world holds out a few colour-shape pairs (:attr:`World.held_out`): scenes drawn for ``train`` and
``valid`` never contain them, scenes drawn for ``test`` may, so a test metric can show generalisation to
unseen combinations.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.splits import HeldOutPairs, held_out_pairs, split_rng

__all__ = ["ATTRIBUTES", "CELL_NAMES", "GRID", "ToyObject", "Scene", "World"]

#: The attributes of an object, in the order they are spoken ("small red metal circle").
ATTRIBUTES: tuple[str, ...] = ("size", "colour", "material", "shape")
#: The side of the placement grid; objects occupy distinct cells, so they never overlap.
GRID = 3
#: Words for the cells of the grid, indexed ``[row][col]`` (row 0 is the top).
CELL_NAMES: tuple[tuple[str, ...], ...] = (
    ("top left", "top", "top right"),
    ("left", "centre", "right"),
    ("bottom left", "bottom", "bottom right"),
)

_VALUES: dict[str, tuple[str, ...]] = {
    "size": vocab.SIZES, "colour": vocab.COLORS, "material": vocab.MATERIALS, "shape": vocab.SHAPES,
}


@dataclass(frozen=True)
class ToyObject:
    """One object of a scene.

    Attributes:
        colour, shape, size, material: its attributes (values from :mod:`vocab`).
        row, col: its grid cell (0-based; row 0 is the top, col 0 the left).
    """

    colour: str
    shape: str
    size: str
    material: str
    row: int = 1
    col: int = 1

    @property
    def x(self) -> float:
        """Centre x in unit coordinates (0 = left edge)."""
        return (self.col + 0.5) / GRID

    @property
    def y(self) -> float:
        """Centre y in unit coordinates (0 = top edge)."""
        return (self.row + 0.5) / GRID

    @property
    def cell(self) -> str:
        """The cell's name ("top left", "centre"...)."""
        return CELL_NAMES[self.row][self.col]

    def get(self, attribute: str) -> str:
        """The value of ``attribute`` (one of :data:`ATTRIBUTES`)."""
        if attribute not in _VALUES:
            raise KeyError(f"unknown attribute {attribute!r}; expected one of {', '.join(ATTRIBUTES)}")
        return getattr(self, attribute)

    def with_value(self, attribute: str, value: str) -> "ToyObject":
        """A copy with one attribute changed."""
        self.get(attribute)
        return replace(self, **{attribute: value})

    def phrase(self, mention: Iterable[str] = ("size", "colour", "shape")) -> str:
        """A noun phrase naming the mentioned attributes in canonical order: ``"small red circle"``.

        The shape is always spoken (it is the head noun).
        """
        wanted = set(mention) | {"shape"}
        return " ".join(self.get(a) for a in ATTRIBUTES if a in wanted)

    def relation_to(self, other: "ToyObject") -> list[str]:
        """The relations (from :data:`vocab.RELATIONS`) that hold from this object to ``other``."""
        out = []
        if self.col < other.col:
            out.append("left of")
        if self.col > other.col:
            out.append("right of")
        if self.row < other.row:
            out.append("above")
        if self.row > other.row:
            out.append("below")
        return out


@dataclass(frozen=True)
class Scene:
    """A scene: objects in distinct grid cells, in reading order (top to bottom, left to right)."""

    objects: tuple[ToyObject, ...]

    def __len__(self) -> int:
        return len(self.objects)

    def find(self, **attrs: str) -> list[ToyObject]:
        """The objects whose attributes equal all of ``attrs`` (e.g. ``find(shape="circle")``)."""
        return [o for o in self.objects if all(o.get(k) == v for k, v in attrs.items())]

    def describe(self, mention: Sequence[Iterable[str]] | Iterable[str] = ("size", "colour", "material"),
                 *, positions: bool = True) -> str:
        """One sentence per object: ``"there is a small red metal circle in the top left ."``.

        Args:
            mention: the attributes to speak, for all objects, or one collection per object.
            positions: whether to say where each object is.
        """
        per_object = _per_object(mention, len(self.objects))
        sentences = []
        for obj, attrs in zip(self.objects, per_object):
            where = f" {_cell_phrase(obj.cell)}" if positions else ""
            sentences.append(f"there is {_article(obj.phrase(attrs))} {obj.phrase(attrs)}{where} .")
        return " ".join(sentences)

    def caption(self) -> str:
        """A canonical one-line caption, objects in reading order: ``"a small red circle and a large blue square"``."""
        return " and ".join(f"{_article(o.phrase())} {o.phrase()}" for o in self.objects)


class World:
    """A seeded toy world: the factory of scenes, objects, event records and sentences.

    Args:
        seed: fixes the held-out combinations and, through :meth:`rng`, every random stream.
        held_out: number of colour-shape pairs to hold out of training (0 disables).
    """

    def __init__(self, seed: int = 0, held_out: int = 2) -> None:
        self.seed = seed
        self.held_out: HeldOutPairs = held_out_pairs(seed, vocab.COLORS, vocab.SHAPES, held_out)

    def rng(self, split: str, stream: str = "") -> random.Random:
        """The random stream of ``split`` and ``stream`` under this world's seed (see ``split_rng``)."""
        return split_rng(self.seed, split, stream)

    def random_object(self, rng: random.Random, split: str = "train", *, row: int = 1, col: int = 1,
                      exclude_shapes: Iterable[str] = (), **fixed: str) -> ToyObject:
        """Draw an object allowed in ``split``, with optional fixed attributes.

        Args:
            rng: the random stream.
            split: held-out colour-shape pairs are only drawn for ``test``.
            row, col: its grid cell.
            exclude_shapes: shapes not to use (to keep shapes distinct in a scene).
            **fixed: attribute values to keep (``colour="red"``).
        """
        shapes = [s for s in vocab.SHAPES if s not in set(exclude_shapes)]
        if not shapes:
            raise ValueError("every shape is excluded")
        for _ in range(1000):
            values = {a: fixed.get(a) or rng.choice(_VALUES[a] if a != "shape" else shapes) for a in ATTRIBUTES}
            if self.held_out.allowed(values["colour"], values["shape"], split):
                return ToyObject(row=row, col=col, **values)
        raise ValueError(f"no object with {fixed} is allowed in split {split!r}")

    def scene(self, rng: random.Random, split: str = "train", n_objects: int | tuple[int, int] = (1, 4), *,
              distinct_shapes: bool = False) -> Scene:
        """Draw a scene of objects in distinct cells, listed in reading order.

        Args:
            rng: the random stream.
            split: controls the held-out combinations (see :class:`World`).
            n_objects: an exact count, or an inclusive ``(low, high)`` range.
            distinct_shapes: give every object a different shape, so "the circle" names one object
                (at most ``len(SHAPES)`` objects then).
        """
        n = n_objects if isinstance(n_objects, int) else rng.randint(*n_objects)
        limit = len(vocab.SHAPES) if distinct_shapes else GRID * GRID
        if not 1 <= n <= limit:
            raise ValueError(f"a scene holds 1 to {limit} objects here, asked for {n}")
        cells = sorted(rng.sample(range(GRID * GRID), n))
        objects: list[ToyObject] = []
        for cell in cells:
            used = {o.shape for o in objects} if distinct_shapes else set()
            objects.append(self.random_object(rng, split, row=cell // GRID, col=cell % GRID,
                                              exclude_shapes=used))
        return Scene(tuple(objects))

    def other_value(self, rng: random.Random, attribute: str, value: str) -> str:
        """A value of ``attribute`` different from ``value`` (for attribute-flipped statements)."""
        return rng.choice([v for v in _VALUES[attribute] if v != value])

    @staticmethod
    def values(attribute: str) -> tuple[str, ...]:
        """The possible values of an object attribute."""
        return _VALUES[attribute]

    def event(self, rng: random.Random):  # -> EventRecord; imported lazily to keep one concept per module
        """Draw an event record (see :mod:`polymodal_plugin_toyworld.events`)."""
        from polymodal_plugin_toyworld.events import random_event

        return random_event(rng)

    def sentence(self, rng: random.Random) -> str:
        """Draw one sentence of the world grammar (see :mod:`polymodal_plugin_toyworld.grammar`)."""
        from polymodal_plugin_toyworld.grammar import random_sentence

        return random_sentence(rng)


def _article(phrase: str) -> str:
    return "an" if phrase[:1] in "aeiou" else "a"


def _cell_phrase(cell: str) -> str:
    return "in the centre" if cell == "centre" else f"at the {cell}" if cell in ("top", "bottom") \
        else f"on the {cell}" if cell in ("left", "right") else f"in the {cell}"


def _per_object(mention: Sequence[Iterable[str]] | Iterable[str], n: int) -> list[tuple[str, ...]]:
    items = list(mention)
    if items and all(isinstance(m, str) for m in items):
        return [tuple(items)] * n  # type: ignore[list-item]
    if len(items) != n:
        raise ValueError(f"mention has {len(items)} entries for {n} objects")
    return [tuple(m) for m in items]
