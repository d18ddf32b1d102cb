"""Image adapters on CPU at tiny sizes: collate of mixed sizes, output shapes, masks, positions, weights."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from polymodal.errors import PluginError
from polymodal_modality_image.adapters import ImageAdapter, ResNetAdapter, SmallConvAdapter, ViTAdapter

torch.set_num_threads(1)
D = 32


@pytest.fixture
def batch(make_pre):
    """Two images through the real preprocessor: a wide one (32x16 content) and a square one (32x32)."""
    pre = make_pre(",size=32")
    wide = pre.encode(np.full((16, 32, 3), 255, np.uint8), train=False, rng=random.Random(0), row={})
    square = pre.encode(np.zeros((8, 8, 3), np.uint8), train=False, rng=random.Random(0), row={})
    return ImageAdapter.collate([wide, square])


def test_collate_pads_to_the_batch_maximum(batch):
    assert batch["image"].shape == (2, 3, 32, 32) and set(batch) == {"image", "valid"}
    assert batch["valid"].tolist() == [[[True, True], [False, False]], [[True, True], [True, True]]]
    assert (batch["image"][0, :, 16:] == 0).all() and (batch["image"][0, :, :16] == 1).all()


def test_small_adapter_shapes_masks_and_positions(batch):
    for stride, grid in ((8, 4), (16, 2)):
        torch.manual_seed(0)
        adapter = SmallConvAdapter(D, {"stride": stride})
        n_params = sum(p.numel() for n, p in adapter.backbone.named_parameters())
        assert 50_000 < n_params < 150_000
        x, mask, pos, _ = adapter(batch)
        assert x.shape == (2, grid * grid, D) and pos.shape == (2, grid * grid, D)
        expected = torch.zeros(2, grid, grid, dtype=torch.bool)
        expected[0, grid // 2:] = True  # the wide image's lower half is padding
        assert torch.equal(mask, expected.reshape(2, -1))
        # Positions differ per cell and are the same for every image of the batch.
        assert torch.equal(pos[0], pos[1]) and len({tuple(p.tolist()) for p in pos[0]}) == grid * grid


def test_places_are_cell_centres_as_fractions_of_each_images_content(batch):
    adapter = SmallConvAdapter(D, {"stride": 8})
    _, mask, _, places = adapter(batch)
    assert places.shape == (2, 16, 2)
    grid = places.view(2, 4, 4, 2)
    centres = (torch.arange(4) + 0.5) / 4
    assert torch.allclose(grid[1, 2, :, 0], centres) and torch.allclose(grid[1, :, 2, 1], centres)
    # the wide image fills the top two of four rows: its rows are halves of its content, not quarters
    assert torch.allclose(grid[0, :2, 1, 1], torch.tensor([0.25, 0.75])) and torch.allclose(grid[0, 0, :, 0], centres)
    assert ((places[~mask] > 0) & (places[~mask] < 1)).all()


def test_gradients_reach_backbone_and_positions(batch):
    adapter = SmallConvAdapter(D, {"stride": 8})
    x, mask, pos, _ = adapter(batch)
    (x.sum() + pos.sum()).backward()
    assert adapter.backbone[0].weight.grad.abs().sum() > 0
    assert adapter.row_pos.weight.grad[:4].abs().sum() > 0 and adapter.row_pos.weight.grad[4:].abs().sum() == 0


def test_resnet_adapter_is_ofas_cut(batch):
    torch.manual_seed(0)
    adapter = ResNetAdapter(D, {"depth": "tiny"}).eval()
    assert adapter.arch == "resnet50" and adapter.channels == 1024 and adapter.stride == 16
    x, mask, pos, _ = adapter(batch)
    assert x.shape == (2, 4, D) and mask.tolist() == [[False, False, True, True], [False] * 4]
    assert torch.isfinite(x).all()
    with pytest.raises(PluginError, match="depth"):
        ResNetAdapter(D, {"depth": "resnet18"})


@pytest.mark.parametrize("depth", [0, 1])
def test_vit_adapter(batch, depth):
    adapter = ViTAdapter(D, {"depth": depth})
    assert adapter.stride == 16 and adapter.channels == 192
    x, mask, pos, _ = adapter(batch)
    assert x.shape == (2, 4, D) and mask.tolist() == [[False, False, True, True], [False] * 4]


def test_grid_over_max_grid_is_refused(batch):
    adapter = SmallConvAdapter(D, {"stride": 8, "max_grid": 3})
    with pytest.raises(ValueError, match="max_grid"):
        adapter(batch)


def test_weights_from_safetensors_and_plain_state_dicts(tmp_path, batch):
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(1)
    source = ResNetAdapter(D)
    path = tmp_path / "adapter.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    torch.manual_seed(2)
    loaded = ResNetAdapter(D, {"weights": str(path)})
    assert "proj.weight" in loaded.loaded and "backbone.conv1.weight" in loaded.loaded
    for (name, a), b in zip(source.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    source.eval(), loaded.eval()
    assert torch.allclose(source(batch)[0], loaded(batch)[0])

    # A whole timm ResNet-50 state dict (with fc and layer4) loads into the cut backbone.
    full = timm.create_model("resnet50", pretrained=False)
    pt = tmp_path / "resnet50.pth"
    torch.save({"state_dict": full.state_dict()}, pt)
    cut = ResNetAdapter(D, {"weights": str(pt)})
    assert torch.equal(cut.backbone.conv1.weight, full.conv1.weight)
    assert all(name.startswith("backbone.") for name in cut.loaded)
    assert not any("fc." in name or "layer4" in name for name in cut.loaded)


class _NotATensor:
    pass


def test_bad_weight_files_are_plugin_errors(tmp_path):
    with pytest.raises(PluginError, match="no such file"):
        SmallConvAdapter(D, {"weights": str(tmp_path / "missing.safetensors")})
    pickled = tmp_path / "evil.pt"
    torch.save({"x": _NotATensor()}, pickled)
    with pytest.raises(PluginError, match="weights_only"):
        SmallConvAdapter(D, {"weights": str(pickled)})
    other = tmp_path / "small.pt"
    torch.save(SmallConvAdapter(D, {"stride": 16}).backbone.state_dict(), other)
    with pytest.raises(PluginError):
        ResNetAdapter(D, {"weights": str(other)})  # nothing of a conv stem fits a ResNet


def test_model_adapter_options_replace_the_spec_defaults_and_reach_checkpoints(tmp_path):
    from polymodal.api.model import GeneralistModel
    from polymodal.api.task import Task
    from polymodal.errors import PlanError
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 30, 30)).save(tmp_path / "red.png")
    task = Task("shapes", "[IMAGE:img,size=32,adapter=image.small] what colour? -> [TEXT:label,closed_set]",
                evaluators=["accuracy"])
    task.add_dataset([{"img": str(tmp_path / "red.png"), "label": "red"}], "train")
    model = GeneralistModel("nano", resource_options={"text.tokenizer": {"vocab_size": 300}},
                            adapter_options={"image.small": {"stride": 16}})
    model.build([task])
    assert model.net.adapter_specs["image.small"][1]["stride"] == 16
    assert model.net.adapters["image__small"].stride == 16
    model.save_pretrained(tmp_path / "ckpt")
    assert GeneralistModel.from_pretrained(tmp_path / "ckpt").net.adapters["image__small"].stride == 16
    wrong = GeneralistModel("nano", resource_options={"text.tokenizer": {"vocab_size": 300}},
                            adapter_options={"image.small": {"strides": 16}})
    with pytest.raises(PlanError, match="unknown option.*strides.*it takes max_grid, stride, width"):
        wrong.build([task])
