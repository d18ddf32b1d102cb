from __future__ import annotations

import importlib.metadata as md
import random
import subprocess
import sys

import pytest

from polymodal.errors import DataError
from polymodal.planning.planner import compile_instruction
from polymodal.preprocessing import BuildContext
from polymodal.testing import isolated_registry
from polymodal.vocab import MASK, VocabLayout
from polymodal_modality_text import spec
from polymodal_modality_text.noise import span_mask
from polymodal_modality_text.preprocess import TextPreprocessor
from polymodal_modality_text.tokenizer import TextTokenizer

CORPUS = ["the red circle is left of the blue square", "a small green triangle moves right",
          "what does the image describe?", "Hello, World! The quick brown fox."] * 20


@pytest.fixture(scope="module")
def tok():
    return TextTokenizer.fit(CORPUS, {"vocab_size": 300, "min_frequency": 1})


def setup(instruction, tok):
    reg = isolated_registry(spec.TEXT, spec.PREPROCESS, spec.EMBED, spec.LM_HEAD)
    plan = compile_instruction(instruction, reg)
    ctx = BuildContext(VocabLayout.build(tok.token_spaces()), {"text.tokenizer": tok})
    return plan, ctx


def test_trained_tokenizer_round_trips_and_saves(tok, tmp_path):
    ids = tok.encode("the red circle is left")
    assert tok.decode(ids) == "the red circle is left"
    cfg = tok.save(str(tmp_path))
    again = TextTokenizer.load(str(tmp_path), cfg)
    assert again.encode("a small green triangle") == tok.encode("a small green triangle")


def test_gpt2_bpe_from_the_package():
    gpt2 = TextTokenizer.gpt2()
    assert gpt2.size == 50257
    assert gpt2.decode(gpt2.encode("Hello world, this is GPT-2.")) == "Hello world, this is GPT-2."


def test_attributes(tok):
    plan, ctx = setup("[TEXT:a,uncased,no_punctuation,max_length=3] -> [TEXT:b]", tok)
    pre = TextPreprocessor(plan.slots[0], ctx)
    out = pre.encode("Hello, World! The quick", train=False, rng=random.Random(0), row={})
    assert pre.postprocess(out["tokens"]) == pre.postprocess(
        [t + ctx.layout.space("text").offset for t in tok.encode("hello world the quick")][:3])
    assert len(out["tokens"]) == 3
    with pytest.raises(DataError, match="empty"):
        pre.encode("   ", train=False, rng=random.Random(0), row={})
    with pytest.raises(DataError, match="expected text"):
        pre.encode(["x"], train=False, rng=random.Random(0), row={})


def test_mask_ratio_only_in_training(tok):
    plan, ctx = setup("[TEXT:a,mask_ratio=0.5] -> [TEXT:b]", tok)
    pre = TextPreprocessor(plan.slots[0], ctx)
    text = "the red circle is left of the blue square"
    clean = pre.encode(text, train=False, rng=random.Random(0), row={})["tokens"]
    noisy = pre.encode(text, train=True, rng=random.Random(1), row={})["tokens"]
    assert MASK not in clean and MASK in noisy and len(noisy) < len(clean)


def test_span_mask_covers_the_ratio_of_words():
    tokens = list(range(10, 110))
    starts = [True] * 100
    out = span_mask(tokens, starts, 0.3, MASK, random.Random(3))
    kept = [t for t in out if t != MASK]
    assert len(kept) == 70  # exactly ceil(0.3 * 100) words masked
    assert kept == sorted(kept)


def test_noise_ratio_changes_decoder_input_not_target(tok):
    plan, ctx = setup("[TEXT:a] -> [TEXT:b,noise_ratio=0.9]", tok)
    pre = TextPreprocessor(plan.slots[1], ctx)
    target = pre.target("the red circle is left of the blue square", train=True, rng=random.Random(0), row={})
    noisy = pre.decoder_input(target, train=True, rng=random.Random(0))
    assert noisy != target and len(noisy) == len(target)
    assert pre.decoder_input(target, train=False, rng=random.Random(0)) == target


def test_entry_points_and_light_spec():
    names = {(ep.group, ep.name) for ep in md.distribution("polymodal-modality-text").entry_points}
    assert ("polymodal.modalities", "text") in names and ("polymodal.heads", "text.lm") in names
    code = "import sys, polymodal_modality_text.spec; print(any(m.startswith(('torch','tokenizers')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
