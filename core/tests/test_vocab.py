from __future__ import annotations

import pytest

from polymodal.errors import PlanError
from polymodal.vocab import EOS, SPECIALS, VocabLayout


def test_new_spaces_are_appended_and_ids_never_move():
    first = VocabLayout.build({"text": 100})
    assert first.space("special").size == len(SPECIALS) and first.space("text").offset == len(SPECIALS)
    stored = VocabLayout.from_dict(first.to_dict())
    later = VocabLayout.build({"box.loc": 1000, "text": 100}, base=stored)
    assert later.space("text") == first.space("text")
    assert later.space("box.loc").offset == first.size
    # a plugin removed: its space stays in the stored layout, so others keep their ids
    again = VocabLayout.build({"text": 100}, base=later)
    assert again == later and again.space_of(EOS).name == "special"


def test_size_change_is_refused():
    with pytest.raises(PlanError, match="ids would shift"):
        VocabLayout.build({"text": 120}, base=VocabLayout.build({"text": 100}))
