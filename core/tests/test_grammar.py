from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from polymodal.errors import InstructionError
from polymodal.instruction.grammar import Group, Slot, Text, parse


def test_parses_sentences_slots_and_attributes():
    syn = parse('[IMAGE:img] what does " [TEXT:cap,max_length=12,uncased] " say? -> [TEXT:out,v="a, b]"]')
    enc = syn.encoder.items
    assert isinstance(enc[0], Slot) and enc[0].type == "IMAGE" and enc[0].name == "img"
    assert isinstance(enc[1], Text) and enc[1].text == 'what does "'
    attrs = {a.name: a.value for a in enc[2].attrs}
    assert attrs == {"max_length": "12", "uncased": None}
    assert syn.decoder.items[0].attrs[0].value == "a, b]"


def test_group_and_escapes():
    syn = parse(r"[IMAGE:img] objects \(all\) -> ( [BOX:boxes] [TEXT:labels] )*")
    assert syn.encoder.items[1].text == "objects (all)"
    group = syn.decoder.items[0]
    assert isinstance(group, Group) and [s.name for s in group.items] == ["boxes", "labels"]


def test_either_side_may_be_empty():
    assert parse("-> [TEXT:t]").encoder.items == ()
    assert parse("[TEXT:t] ->").decoder.items == ()


@pytest.mark.parametrize("text, column, fragment", [
    ("[TEXT:a, no_loss] -> [TEXT:b]", 8, "spaces"),
    ("[TEXT:b,mask-ratio=0.3] -> [TEXT:c]", 12, "mask_ratio"),
    ("[TEXT:a] -> [TEXT:b] -> [TEXT:c]", 21, "more than one"),
    ("( [TEXT:a] -> [TEXT:b]", 0, "never closed"),
    ("[TEXT:a] ) -> [TEXT:b]", 9, "closes no group"),
    ("[TEXT:a] -> ( [TEXT:b] )", 23, ")*"),
    ("[TEXT:a -> [TEXT:b]", 0, "never closed"),
    ("[TEXT:a] [TEXT:b]", 17, "no '->'"),
    ("[] -> [TEXT:b]", 1, "empty"),
    ("[TEXT:] -> [TEXT:b]", 6, "name"),
    ("[TEXT:a,x,x] -> [TEXT:b]", 10, "twice"),
    ("[TEXT:a,k=] -> [TEXT:b]", 10, "value"),
    ("a ] b -> [TEXT:b]", 2, "closes no slot"),
    ("-> ( plain )*", 3, "no slot"),
])
def test_malformed_instructions_point_at_the_column(text, column, fragment):
    with pytest.raises(InstructionError) as info:
        parse(text)
    err = info.value
    assert err.column == column, str(err)
    assert fragment in str(err)
    caret_line = str(err).splitlines()[2]
    assert caret_line.index("^") == column + 2


def test_hyphen_suggests_underscore():
    with pytest.raises(InstructionError) as info:
        parse("[TEXT:b,mask-ratio=0.3] -> [TEXT:c]")
    assert info.value.suggestion == "did you mean 'mask_ratio'?"


_pieces = st.sampled_from([
    "[TEXT:a]", "[TEXT:b,no_loss]", "[IMAGE:img]", " what ", " is ", "->", "(", ")*", "[", "]", ",", "=",
    "[TEXT:a,mask_ratio=0.3]", '"', "\\", " ", "[BOX]", "[TEXT:x,k='v, w']", "-", ":", "*",
])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_pieces, max_size=12), st.text(max_size=6))
def test_fuzz_only_syntax_or_positioned_errors(pieces, noise):
    text = "".join(pieces) + noise
    try:
        syn = parse(text)
    except InstructionError as err:
        assert 0 <= err.column <= len(text)
        assert "^" in str(err)
    else:
        for side in (syn.encoder, syn.decoder):
            for slot in side.slots():
                assert text[slot.start] == "[" and text[slot.end - 1] == "]"
