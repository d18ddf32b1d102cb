"""save_box: a PNG whose pixels changed on the box edges and nowhere inside."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from polymodal.errors import DataError
from polymodal_modality_box import save_box


def test_save_box_draws_the_edges_into_a_png(tmp_path):
    img = np.full((60, 80, 3), 128, np.uint8)
    path = save_box(img, [[10, 20, 50, 40]], tmp_path / "sub" / "out.jpg", thickness=1)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # PNG whatever the suffix
    out = np.asarray(Image.open(path).convert("RGB")).astype(int)
    changed = (out != 128).any(-1)
    # The border pixels of the box: x in [10, 49], y in [20, 39].
    assert changed[20, 10:50].all() and changed[39, 10:50].all()
    assert changed[20:40, 10].all() and changed[20:40, 49].all()
    assert not changed[21:39, 11:49].any()  # inside untouched
    assert not changed[:19].any() and not changed[41:].any() and not changed[:, :9].any()


def test_labels_several_boxes_and_a_single_box(tmp_path):
    img = np.full((100, 100, 3), 255, np.uint8)
    path = save_box(img, ["5,30,40,70", None, (50, 50, 90, 90)], tmp_path / "two.png", labels=["a", "", "b"])
    out = np.asarray(Image.open(path).convert("RGB"))
    assert (out[30, 5:40] != 255).any(-1).all() and (out[50, 50:90] != 255).any(-1).all()
    assert (out[:28, 5:40] != 255).any()  # the label is written above the first box
    single = save_box(img, [20, 20, 60, 60], tmp_path / "one.png")
    assert (np.asarray(Image.open(single).convert("RGB"))[20, 20:60] != 255).any(-1).all()
    with pytest.raises(DataError):
        save_box(img, [[1, 2, 3]], tmp_path / "bad.png")
    with pytest.raises(DataError):
        save_box(img, [[1, 2, 3, 4]], tmp_path / "bad.png", labels=["x", "y"])
