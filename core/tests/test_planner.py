from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from polymodal.components import AttrSpec, ComponentSpec
from polymodal.errors import InstructionError
from polymodal.planning.planner import compile_instruction
from polymodal.testing import isolated_registry

GLUE = ('is the sentiment of text " [TEXT:sentence] " positive or negative? -> is the sentiment of text '
        '" [TEXT:sentence,no_loss] " positive or negative? [TEXT:label,closed_set]')


def kinds(plan):
    return [s.kind for s in plan.program.segments]


def test_glue_plan(registry):
    plan = compile_instruction(GLUE, registry)
    assert kinds(plan) == ["forced", "forced", "forced", "choice"]
    assert plan.input_columns() == ["sentence"]
    assert plan.target_columns() == ["label"]
    slot = plan.slots[1]
    assert slot.preprocessor.name == "text" and slot.preprocessor.reason == "TEXT default"
    assert slot.adapter.name == "text.embed"
    assert plan.slots[-1].head.name == "text.lm"


def test_same_column_on_both_sides(registry):
    plan = compile_instruction('complete " [TEXT:text,mask_ratio=0.3] " -> [TEXT:text]', registry)
    assert kinds(plan) == ["free"]
    assert plan.input_columns() == ["text"] and plan.target_columns() == ["text"]
    assert plan.encoder[1].attrs == {"mask_ratio": 0.3}


def test_span_and_loop(registry):
    plan = compile_instruction("[TEXT:doc] -> ( [SPAN:s] [TEXT:label] )*", registry)
    loop = plan.program.segments[0]
    assert loop.kind == "loop"
    assert [(b.kind, b.length) for b in loop.body] == [("span", 4), ("free", None)]
    assert "loop, zero or more times" in plan.render()


def test_explicit_choice_is_recorded(registry):
    plan = compile_instruction("[TEXT:a,preprocess=text] -> [TEXT:b]", registry)
    assert plan.slots[0].preprocessor.reason == "attribute preprocess=text"


@pytest.mark.parametrize("text, column, fragment", [
    ("[text:a] -> [TEXT:b]", 1, "upper case"),
    ("[TEXT:a,preprocessor=x] -> [TEXT:b]", 8, "preprocess"),
    ("[TEXT:a,mask_ratio=2] -> [TEXT:b]", 8, "<= 1"),
    ("[TEXT:a,mask_ratio=abc] -> [TEXT:b]", 8, "number"),
    ("[TEXT:a,no_loss] -> [TEXT:b]", 8, "decoder"),
    ("[TEXT:a] -> [TEXT:b,mask_ratio=0.3]", 20, "encoder"),
    ("[TEXT:a,preprocess=nope] -> [TEXT:b]", 8, "no preprocessor named 'nope'"),
    ("[TEXT:a,adapter=text.lm] -> [TEXT:b]", 8, "decoder side only"),
    ("[SPAN:a] -> ( [TEXT:b] )*", 14, "fixed-length or closed-set"),
    ("[SPAN:a] -> [TEXT:a]", 12, "bound to a SPAN"),
])
def test_planning_errors(registry, text, column, fragment):
    with pytest.raises(InstructionError) as info:
        compile_instruction(text, registry)
    assert info.value.column == column, str(info.value)
    assert fragment in str(info.value)


def test_missing_modality_names_the_distribution(registry):
    with pytest.raises(InstructionError) as info:
        compile_instruction("[IMAGE:img] what does the image describe? -> [TEXT:cap]", registry)
    assert "pip install polymodal-modality-image" in str(info.value)
    assert info.value.column == 1


def test_attribute_schema_comes_from_the_component(registry):
    registry.register(ComponentSpec("preprocessor", "text.fancy", "TEXT", "polymodal.testing.fakes:WordPreprocessor",
                                    attributes=(AttrSpec("shout", "flag", "upper-case"),)))
    plan = compile_instruction("[TEXT:a,preprocess=text.fancy,shout] -> [TEXT:b]", registry)
    assert plan.slots[0].attrs["shout"] is True
    with pytest.raises(InstructionError):
        compile_instruction("[TEXT:a,shout] -> [TEXT:b]", registry)


def test_hook_can_choose_the_preprocessor(registry):
    from polymodal.hooks import hookimpl

    registry.register(ComponentSpec("preprocessor", "text.alt", "TEXT", "polymodal.testing.fakes:WordPreprocessor"))

    class Chooser:
        @hookimpl
        def polymodal_choose_preprocessor(self, modality, side, attributes):
            return "text.alt" if side == "decoder" and modality == "TEXT" else None

    registry.register(Chooser(), name="chooser", kind="hooks")
    plan = compile_instruction("[TEXT:a] -> [TEXT:b]", registry)
    assert plan.decoder[0].preprocessor.name == "text.alt" and plan.decoder[0].preprocessor.reason == "hook"
    assert plan.encoder[0].preprocessor.name == "text"


_SLOTS = st.sampled_from(["[TEXT:a]", "[TEXT:b,no_loss]", "[TEXT:c,closed_set]", "[SPAN:s]", "[TEXT:d,max_length=3]",
                          "[TEXT:e,mask_ratio=0.5]", "[IMAGE:i]", "[TEXT:f,bogus]", "plain words", "( [SPAN:g] [TEXT:h] )*",
                          "[TEXT:a,preprocess=text]", "[text:z]", "[SPAN:s,noise=1]"])


_FUZZ_REGISTRY = isolated_registry(fakes=True)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_SLOTS, max_size=4), st.lists(_SLOTS, max_size=4))
def test_fuzz_plans_or_positioned_errors(enc, dec):
    registry = _FUZZ_REGISTRY
    text = " ".join(enc) + " -> " + " ".join(dec)
    try:
        plan = compile_instruction(text, registry)
    except InstructionError as err:
        assert 0 <= err.column <= len(text) and "^" in str(err)
    else:
        assert len(plan.slots) >= 0 and plan.to_dict()["instruction"] == text
