"""Shared helpers: build an ``image`` preprocessor for a slot through the real planner."""
from __future__ import annotations

import numpy as np
import pytest

from polymodal.planning.planner import compile_instruction
from polymodal.preprocessing import BuildContext
from polymodal.testing import isolated_registry
from polymodal.testing.fakes import WordVocab
from polymodal.vocab import VocabLayout
from polymodal_modality_image import spec
from polymodal_modality_image.preprocess import ImagePreprocessor

SPECS = (spec.IMAGE, spec.PREPROCESS, spec.RESNET, spec.VIT, spec.SMALL)


def _make_preprocessor(attrs: str = "") -> ImagePreprocessor:
    plan = compile_instruction(f"[IMAGE:img{attrs}] what does the image describe? -> [TEXT:cap]",
                               isolated_registry(*SPECS, fakes=True))
    vocab = WordVocab()
    ctx = BuildContext(VocabLayout.build(vocab.token_spaces()), {"text.tokenizer": vocab})
    return ImagePreprocessor(plan.slots[0], ctx)


@pytest.fixture
def make_pre():
    """``make_pre(",size=32")``: the preprocessor of ``[IMAGE:img,size=32]`` in a caption instruction."""
    return _make_preprocessor


@pytest.fixture
def pattern() -> np.ndarray:
    """A 30x40 RGB image with distinct content in every pixel (gradients + a block)."""
    h, w = 30, 40
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 6, y * 8, (x + y) * 3], axis=-1).astype(np.uint8)
    img[5:10, 25:35] = (255, 0, 0)
    return img
