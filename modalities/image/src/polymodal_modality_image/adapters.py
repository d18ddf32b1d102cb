"""Image input adapters: a batch of preprocessed images -> patch embeddings, padding mask, 2-D positions.

Every adapter runs a backbone to a feature map ``[B, C, gh, gw]``, projects each cell with ``Linear(C, d_model)``
followed by a LayerNorm (random-init backbones give features of arbitrary scale; the norm puts them on the scale
of the token embeddings), and returns learned 2-D positions ``row[i] + col[j]`` separately (the engine adds
them) and each cell's place, its centre as a fraction of the image (for the location pointer). ``collate`` pads the images of a batch to the largest height and width, and the padding mask marks the
feature cells that hold only padding.

- :class:`ResNetAdapter` (``image.resnet``): OFA's encoder, a timm ResNet-50/101/152 cut after layer3 (stride 16,
  1024 channels). Option ``depth``: ``resnet50``/``101``/``152``, a number, or an OFA size name (tiny -> 50,
  medium/base -> 101, large/huge -> 152).
- :class:`ViTAdapter` (``image.vit``): a timm Vision Transformer (``arch``; ``depth`` overrides the number of
  blocks; ``depth=0`` keeps only the patch embedding, like OFASys's ``image_patch_embed`` but at any width).
- :class:`SmallConvAdapter` (``image.small``): 3 or 4 strided 3x3 convs with GroupNorm (stride 8 or 16, ~100k
  parameters) for CPU training on toy scenes.

Weights: option ``weights`` names a local ``.safetensors`` file or torch state dict (see
:mod:`~polymodal_modality_image.weights`); without it the backbone is randomly initialised (no pretrained vision
weights exist offline).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.engine.adapters import Adapter
from polymodal.errors import PluginError
from polymodal.model import sinusoidal_

from polymodal_modality_image.weights import load_weights

__all__ = ["ImageAdapter", "ResNetAdapter", "ViTAdapter", "SmallConvAdapter", "RESNET_DEPTHS"]

#: OFA model size -> ResNet depth of its image encoder.
RESNET_DEPTHS = {"tiny": 50, "medium": 101, "base": 101, "large": 152, "huge": 152}


class ImageAdapter(Adapter):
    """Shared machinery: collate, projection, 2-D positions and masks. Subclasses build ``self.backbone``,
    set ``self.channels`` and implement :meth:`features`, then call :meth:`_finish`.

    Options:
        max_grid: the largest feature-grid side (rows or columns) the position tables cover.
        weights: a local weights file for the backbone (or the whole adapter).
    """

    channels: int = 0

    def __init__(self, d_model: int, options: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__(d_model, options, attrs)
        self.max_grid = int(self.options.get("max_grid") or 64)

    def _finish(self) -> None:
        """Create the projection and position tables, then load weights if given."""
        d = self.d_model
        self.proj = nn.Linear(self.channels, d)
        self.norm = nn.LayerNorm(d)
        self.row_pos = nn.Embedding(self.max_grid, d)
        self.col_pos = nn.Embedding(self.max_grid, d)
        # rows on the first half of the features, columns on the second: patch (i, j) differs from (j, i)
        sinusoidal_(self.row_pos.weight, slice(0, d // 2))
        sinusoidal_(self.col_pos.weight, slice(d // 2, d))
        self.loaded: list[str] = []
        if self.options.get("weights"):
            self.loaded = load_weights(self, self.backbone, self.options["weights"])

    @classmethod
    def collate(cls, items: Sequence[Mapping[str, Any]]) -> dict[str, Tensor]:
        """Pad images (zeros) and their ``valid`` patch grids (False) to the batch's largest size."""
        if not items:
            raise ValueError("cannot collate an empty batch")
        images = [np.asarray(it["image"], dtype=np.float32) for it in items]
        valids = [np.asarray(it["valid"], dtype=bool) for it in items]
        height = max(im.shape[1] for im in images)
        width = max(im.shape[2] for im in images)
        gh = max(v.shape[0] for v in valids)
        gw = max(v.shape[1] for v in valids)
        out = np.zeros((len(items), 3, height, width), dtype=np.float32)
        valid = np.zeros((len(items), gh, gw), dtype=bool)
        for i, (im, v) in enumerate(zip(images, valids)):
            out[i, :, : im.shape[1], : im.shape[2]] = im
            valid[i, : v.shape[0], : v.shape[1]] = v
        return {"image": torch.from_numpy(out), "valid": torch.from_numpy(valid)}

    def features(self, image: Tensor) -> Tensor:
        """The backbone's feature map ``[B, C, gh, gw]``."""
        raise NotImplementedError

    def forward(self, data: Mapping[str, Tensor]) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
        image = data["image"]
        feats = self.features(image)
        batch, _, gh, gw = feats.shape
        if gh > self.max_grid or gw > self.max_grid:
            raise ValueError(f"{type(self).__name__}: a {gh}x{gw} feature grid exceeds max_grid={self.max_grid}; "
                             "lower the image size or raise the adapter's max_grid option")
        x = self.norm(self.proj(feats.flatten(2).transpose(1, 2)))
        pos = (self.row_pos.weight[:gh, None, :] + self.col_pos.weight[None, :gw, :]).reshape(gh * gw, -1)
        pos = pos.unsqueeze(0).expand(batch, -1, -1).to(x.dtype)
        padding = self._padding_mask(data.get("valid"), batch, gh, gw, x.device)
        return x, padding, pos, self._places(padding.view(batch, gh, gw))

    @staticmethod
    def _places(padding: Tensor) -> Tensor:
        """``[B, gh * gw, 2]``: each cell's centre ``(x, y)`` as a fraction of its image's content (the cells
        that are not padding; to the cell, as a partly filled last cell counts whole)."""
        batch, gh, gw = padding.shape
        content = ~padding
        cols = content.any(dim=1).sum(dim=1).clamp(min=1).float()  # [B]
        rows = content.any(dim=2).sum(dim=1).clamp(min=1).float()
        x = (torch.arange(gw, device=padding.device).float() + 0.5)[None, :] / cols[:, None]  # [B, gw]
        y = (torch.arange(gh, device=padding.device).float() + 0.5)[None, :] / rows[:, None]  # [B, gh]
        return torch.stack([x[:, None, :].expand(batch, gh, gw), y[:, :, None].expand(batch, gh, gw)],
                           dim=-1).reshape(batch, gh * gw, 2)

    @staticmethod
    def _padding_mask(valid: Tensor | None, batch: int, gh: int, gw: int, device: torch.device) -> Tensor:
        """True where a feature cell holds only padding.

        ``valid`` is on the preprocessor's patch grid; it is resampled (nearest) to the backbone's grid. Image
        content sits at the top left, so the nearest (top-left) source cell of a coarser cell is valid exactly
        when the coarser cell holds content.
        """
        if valid is None:
            return torch.zeros(batch, gh * gw, dtype=torch.bool, device=device)
        v = valid.to(device)
        if tuple(v.shape[-2:]) != (gh, gw):
            v = F.interpolate(v[:, None].float(), size=(gh, gw), mode="nearest")[:, 0] > 0.5
        return ~v.reshape(batch, gh * gw)


def _resnet_name(depth: Any) -> str:
    if isinstance(depth, str) and depth.lower() in RESNET_DEPTHS:
        depth = RESNET_DEPTHS[depth.lower()]
    text = str(depth).lower().removeprefix("resnet")
    if text not in ("50", "101", "152"):
        raise PluginError(f"image.resnet: depth must be resnet50, resnet101 or resnet152 (or an OFA size name "
                          f"{', '.join(RESNET_DEPTHS)}), got {depth!r}")
    return f"resnet{text}"


class ResNetAdapter(ImageAdapter):
    """OFA's image encoder: timm ResNet cut after layer3 (stride 16, 1024 channels).

    Options: ``depth`` (default ``resnet50``), ``weights``, ``max_grid``, ``drop_path_rate``.
    """

    stride = 16

    def __init__(self, d_model: int, options: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__(d_model, options, attrs)
        import timm

        self.arch = _resnet_name(self.options.get("depth") or "resnet50")
        self.backbone = timm.create_model(self.arch, pretrained=False, features_only=True, out_indices=(3,),
                                          drop_path_rate=float(self.options.get("drop_path_rate") or 0.0))
        self.channels = int(self.backbone.feature_info.channels()[-1])
        self._finish()

    def features(self, image: Tensor) -> Tensor:
        return self.backbone(image)[-1]


class ViTAdapter(ImageAdapter):
    """A timm Vision Transformer on 16-pixel patches; ``depth=0`` keeps only the patch embedding.

    Options: ``arch`` (default ``vit_tiny_patch16_224``), ``depth``, ``weights``, ``max_grid``.
    """

    def __init__(self, d_model: int, options: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__(d_model, options, attrs)
        import timm

        kwargs: dict[str, Any] = {}
        if self.options.get("depth") is not None:
            kwargs["depth"] = int(self.options["depth"])
        arch = str(self.options.get("arch") or "vit_tiny_patch16_224")
        try:
            self.backbone = timm.create_model(arch, pretrained=False, num_classes=0, global_pool="",
                                              class_token=False, dynamic_img_size=True, dynamic_img_pad=True,
                                              **kwargs)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise PluginError(f"image.vit: cannot build timm model {arch!r} ({exc})") from None
        self.stride = int(self.backbone.patch_embed.patch_size[0])
        self.channels = int(self.backbone.embed_dim)
        self._finish()

    def features(self, image: Tensor) -> Tensor:
        tokens = self.backbone.forward_features(image)[:, self.backbone.num_prefix_tokens:]
        gh = -(-image.shape[-2] // self.stride)
        gw = -(-image.shape[-1] // self.stride)
        return tokens.transpose(1, 2).reshape(image.shape[0], self.channels, gh, gw)


class SmallConvAdapter(ImageAdapter):
    """Strided 3x3 convs + GroupNorm + GELU: stride 8 (32-64-128 channels) or 16 (16-32-64-128), ~100k params.

    Options: ``stride`` (8 or 16), ``width`` (channels of the stride-8 stage's first conv, default 32),
    ``weights``, ``max_grid``.
    """

    def __init__(self, d_model: int, options: Mapping[str, Any] | None = None,
                 attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__(d_model, options, attrs)
        self.stride = int(self.options.get("stride") or 8)
        width = int(self.options.get("width") or 32)
        if self.stride == 8:
            widths = [width, 2 * width, 4 * width]
        elif self.stride == 16:
            widths = [max(4, width // 2), width, 2 * width, 4 * width]
        else:
            raise PluginError(f"image.small: stride must be 8 or 16, got {self.stride}")
        layers: list[nn.Module] = []
        cin = 3
        for cout in widths:
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(min(8, cout // 4), cout),
                       nn.GELU()]
            cin = cout
        self.backbone = nn.Sequential(*layers)
        self.channels = cin
        self._finish()

    def features(self, image: Tensor) -> Tensor:
        return self.backbone(image)
