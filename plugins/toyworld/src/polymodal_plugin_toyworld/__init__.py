"""polymodal-plugin-toyworld: the seeded procedural world behind every toy task.

Pure Python (numpy only for rendering): a :class:`World` of coloured shapes in scenes, event records rendered
as articles, a sentence grammar, shared vocabularies, and split helpers that make train/valid/test disjoint by
construction. See the package README for the API; the main entry points are re-exported here::

    from polymodal_plugin_toyworld import World, split_rng, draw_split, vocab
"""
from __future__ import annotations

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.events import EventRecord, parse_summary, random_event, render_article
from polymodal_plugin_toyworld.grammar import corpus, random_sentence, real_sentences
from polymodal_plugin_toyworld.splits import (
    SPLITS, HeldOutPairs, canonical_split, draw_balanced, draw_split, held_out_pairs, split_of, split_rng, stable_hash,
)
from polymodal_plugin_toyworld.world import Scene, ToyObject, World

__all__ = [
    "vocab", "World", "Scene", "ToyObject", "EventRecord", "random_event", "render_article", "parse_summary",
    "random_sentence", "corpus", "real_sentences", "SPLITS", "HeldOutPairs", "canonical_split", "draw_balanced",
    "draw_split", "held_out_pairs", "split_of", "split_rng", "stable_hash",
]
__version__ = "0.1.0"
