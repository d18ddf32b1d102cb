"""Two tiny learnable tasks over the fake word vocabulary (a closed-set classification and a generation),
for engine tests that must not depend on any plugin."""
from __future__ import annotations

import random

COLOURS = {"red": "positive", "blue": "negative", "green": "neutral"}
SHAPES = ["circle", "square", "triangle"]
SIZES = ["big", "small"]

CLASSIFY = "what is [TEXT:s] ? -> [TEXT:label,closed_set]"
GENERATE = "describe [TEXT:src] -> [TEXT:tgt]"


def rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        colour, shape, size = rng.choice(list(COLOURS)), rng.choice(SHAPES), rng.choice(SIZES)
        out.append({"s": f"the {colour} {shape}", "label": COLOURS[colour],
                    "src": f"the {colour} {shape} is {size}", "tgt": f"{size} {shape}"})
    return out
