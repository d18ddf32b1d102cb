"""Shared fixtures: a registry with IMAGE, BOX and core's fake TEXT, and preprocessors built through it."""
from __future__ import annotations

import pytest

from polymodal.planning.planner import compile_instruction
from polymodal.preprocessing import BuildContext
from polymodal.testing import isolated_registry
from polymodal.testing.fakes import WordVocab
from polymodal.vocab import VocabLayout
from polymodal_modality_box import spec as box_spec
from polymodal_modality_image import spec as image_spec

GROUNDING = '[IMAGE:img{img}] which region does the text " [TEXT:cap] " describe? -> [BOX:region{box}]'


@pytest.fixture
def registry():
    return isolated_registry(image_spec.IMAGE, image_spec.PREPROCESS, image_spec.SMALL, image_spec.RESNET,
                             box_spec.BOX, box_spec.PREPROCESS, box_spec.EMBED, box_spec.HEAD, fakes=True)


@pytest.fixture
def ctx():
    vocab = WordVocab()
    return BuildContext(VocabLayout.build({**vocab.token_spaces(), "box.loc": box_spec.NUM_BINS}),
                        {"text.tokenizer": vocab})


@pytest.fixture
def setup(registry, ctx):
    """``setup(instruction)`` -> (plan, RowEncoder); ``setup(img=",size=64", box=",num_bins=100")`` for grounding."""
    from polymodal.engine.rows import RowEncoder

    def make(instruction: str | None = None, *, img: str = "", box: str = ""):
        plan = compile_instruction(instruction or GROUNDING.format(img=img, box=box), registry)
        return plan, RowEncoder(plan, registry, ctx, task="test")
    return make
