"""REPLACE_ME: the real-format loader, the toy generator and the trivial baseline."""
from __future__ import annotations

import random


def load(path, **options):
    raise NotImplementedError("REPLACE_ME: read the real format; raise DataError(source=path, row=line) on bad input")


def make_toy(n, seed, split):
    rng = random.Random(f"{seed}-{split}")
    raise NotImplementedError("REPLACE_ME: rows with exact ground truth, disjoint across splits")


def write_toy(out_dir, n, seed):
    raise NotImplementedError("REPLACE_ME: write train/valid/test in the real format; load() must read them")


def baseline(train_rows, eval_rows):
    raise NotImplementedError("REPLACE_ME: a trivial predictor, e.g. the most frequent target")
