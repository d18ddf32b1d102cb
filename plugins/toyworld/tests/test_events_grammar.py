"""Tests of event records, articles and the sentence grammar."""
from __future__ import annotations

import itertools
import re

from polymodal_plugin_toyworld import vocab
from polymodal_plugin_toyworld.events import parse_summary, random_event, render_article
from polymodal_plugin_toyworld.grammar import corpus, random_sentence, real_sentences
from polymodal_plugin_toyworld.splits import split_of, split_rng


def test_summary_parses_back_to_the_record():
    rng = split_rng(0, "train", "ev")
    for _ in range(200):
        record = random_event(rng)
        assert parse_summary(record.summary()) == record.slots()
        assert parse_summary(record.summary() + " .") == record.slots()
    assert parse_summary("alice sold boxes at the market") is None


def test_article_hides_one_key_sentence_among_distractors():
    rng = split_rng(1, "test", "ev")
    positions = set()
    for _ in range(300):
        record = random_event(rng)
        article, key = render_article(record, rng)
        sentences = [s.strip() + " ." for s in article.split(" .") if s.strip()]
        assert 5 <= len(sentences) <= 8
        positions.add(key)
        count_word = vocab.number_word(record.count)
        # only the key sentence pairs the event's past verb with its count
        hits = [i for i, s in enumerate(sentences)
                if re.search(rf"\b{record.past}\b", s) and re.search(rf"\b{count_word}\b", s)
                and record.day in s]
        assert hits == [key]
    assert positions == set(range(8))


def test_corpus_is_deterministic_and_splits_disjoint():
    splits = {s: corpus(300, seed=5, split=s) for s in ("train", "valid", "test")}
    for a, b in itertools.combinations(splits, 2):
        assert not set(splits[a]) & set(splits[b])
    assert corpus(300, seed=5, split="valid") == splits["valid"]
    rng = split_rng(0, "train")
    lengths = [len(random_sentence(rng).split()) for _ in range(500)]
    assert 6 <= min(lengths) and max(lengths) <= 22


def test_real_sentences_read_wordnet_and_fortune_files(tmp_path):
    wn = tmp_path / "wordnet"
    wn.mkdir()
    (wn / "data.noun").write_text(
        "  1 This software and database is being provided to you\n"
        "00001740 03 n 01 entity 0 003 | that which is perceived or known or inferred to have its own "
        "distinct existence; \"a living entity\"\n")
    fortunes = tmp_path / "fortunes"
    fortunes.mkdir()
    (fortunes / "misc").write_text("A penny saved is a penny earned.\n%\nShort.\n%\n"
                                   "A poem\n\t-- by someone\n%\n")
    out = real_sentences(roots=[str(wn), str(fortunes)])
    assert out == ["that which is perceived or known or inferred to have its own distinct existence",
                   "a penny saved is a penny earned ."]
    assert real_sentences(roots=[str(tmp_path / "missing")]) == []
    extra = [f"real sentence number {i} ." for i in range(400)]
    mixed = corpus(200, seed=0, split="train", extra=extra)
    from_extra = [s for s in mixed if s in extra]
    assert 60 < len(from_extra) < 140  # about half the draws come from the extra pool
    assert all(split_of(s, 0) == "train" for s in from_extra)
