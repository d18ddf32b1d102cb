"""Tests of CIDEr-D: hand-worked cases, properties, and values of the COCO reference implementation."""
from __future__ import annotations

import math
import random

import pytest

from polymodal.errors import PlanError
from polymodal_plugin_metrics.cider import cider, cider_tokenize


def test_hand_computed_two_image_corpus():
    # Two images with references "a b" and "c d": every reference n-gram has df = 1 and the IDF is
    # log 2 - log 1 = log 2, so each n-gram weight is log 2.
    # Image 1, "a b" (identical): cosine 1 for n = 1, 2 and 0 for n = 3, 4 -> 10 * (1 + 1) / 4 = 5.
    # Image 2, "c x": unigram cosine (log2 * log2) / (sqrt2 log2 * sqrt2 log2) = 1/2; no shared bigram
    # -> 10 * 0.5 / 4 = 1.25. Lengths match (1 bigram each). Corpus: (5 + 1.25) / 2 = 3.125 -> x100.
    assert cider(["a b", "c x"], ["a b", "c d"])["cider"] == pytest.approx(312.5)


def test_hand_computed_length_penalty():
    # "a b c" against "a b": unigram cosine 2 / (sqrt3 * sqrt2), bigram cosine 1 / sqrt2, no 3/4-gram in
    # the reference; 2 bigrams vs 1 -> penalty exp(-1 / (2 * 6**2)). Image 2 is identical -> 5.
    first = 10 * (2 / math.sqrt(6) + 1 / math.sqrt(2)) / 4 * math.exp(-1 / 72)
    assert cider(["a b c", "c d"], ["a b", "c d"])["cider"] == pytest.approx(100 * (first + 5) / 2)


def test_matches_coco_caption_reference_values():
    # Values printed by pycocoevalcap 1.2 (coco-caption's CIDEr-D scorer) for this corpus, x100.
    refs = [["a red circle above a blue square", "a red circle over a square", "red circle on top of blue square"],
            ["two green triangles near a big circle", "a big circle beside two triangles"],
            ["a small blue square on the left", "blue square to the left"],
            ["a yellow star moves up", "a star moving upward"]]
    preds = ["a red circle above a square", "two triangles near a circle", "a square on the left of a circle",
             "a yellow star moving up"]
    assert cider(preds, refs)["cider"] == pytest.approx(326.76958670034617, rel=1e-9)
    # Per-image scores are independent of the other candidates, given the same references.
    assert cider(preds[:1] + ["zzz"] * 3, refs)["cider"] == pytest.approx(420.95875737345443 / 4, rel=1e-9)


def test_identical_candidates_on_a_varied_corpus_score_high_and_beat_shuffled():
    rng = random.Random(0)
    colours = ["red", "blue", "green", "yellow", "purple"]
    shapes = ["circle", "square", "triangle", "star"]
    places = ["left", "right", "top", "bottom"]
    refs = []
    for _ in range(20):
        c, s, p = rng.choice(colours), rng.choice(shapes), rng.choice(places)
        refs.append([f"a {c} {s} at the {p}", f"the {s} is {c} and sits at the {p}"])
    exact = cider([r[0] for r in refs], refs)["cider"]
    shuffled = cider([refs[(i + 7) % 20][0] for i in range(20)], refs)["cider"]
    assert exact > 300.0
    assert exact > 3 * shuffled


def test_unrelated_candidates_score_zero():
    assert cider(["zebra xylophone", "quantum"], [["a red circle"], ["a blue square"]])["cider"] == 0.0


def test_single_image_corpus_has_no_idf_weight():
    # log(1 row) - log(df 1) = 0: every weight vanishes, as documented.
    assert cider(["a red circle"], ["a red circle"])["cider"] == 0.0


def test_clipping_stops_repetition_from_paying():
    refs = ["a red circle", "a blue square", "a green star"]
    honest = cider(["a red circle", "a blue square", "a green star"], refs)["cider"]
    repeated = cider(["red red red red", "a blue square", "a green star"], refs)["cider"]
    assert repeated < honest


def test_tokenisation_ignores_case_and_punctuation():
    assert cider_tokenize("A Red-circle, above.") == ["a", "red", "circle", "above"]
    refs = ["a red circle", "a blue square"]
    assert cider(["A Red circle.", "a blue, square"], refs) == cider(["a red circle", "a blue square"], refs)


def test_rejects_bad_options():
    with pytest.raises(PlanError, match="sigma"):
        cider(["a"], ["a"], sigma=0)
    with pytest.raises(PlanError, match="max_n"):
        cider(["a"], ["a"], max_n=0)


def test_matches_pycocoevalcap_on_random_corpora_when_installed():
    coco = pytest.importorskip("pycocoevalcap.cider.cider")
    rng = random.Random(1)
    words = "a the red blue green circle square big small on left of right near moves up".split()
    for _ in range(5):
        refs = [[" ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(rng.randint(1, 4))]
                for _ in range(rng.randint(2, 15))]
        preds = [" ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in refs]
        expected, _ = coco.Cider().compute_score(dict(enumerate(refs)), {i: [p] for i, p in enumerate(preds)})
        assert cider(preds, refs)["cider"] == pytest.approx(100 * float(expected), rel=1e-9)
