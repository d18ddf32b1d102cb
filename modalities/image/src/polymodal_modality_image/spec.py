"""Declarations of the IMAGE modality's components (import-light: no torch, numpy or PIL).

The preprocessor ``image`` turns a picture into a normalised ``float32 [3, H, W]`` array whose long side is the
slot's ``size`` (aspect ratio kept, never stretched), padded to a multiple of ``stride``; the adapters turn a
batch of those into patch embeddings with 2-D positions:

- ``image.resnet``: OFA's ResNet cut after layer3 (stride 16, 1024 channels), random init or a local file;
- ``image.vit``: a timm Vision Transformer (or only its patch embedding, ``depth=0``);
- ``image.small``: a ~100k-parameter strided conv stem for CPU training on toy scenes.
"""
from __future__ import annotations

from polymodal.components import AttrSpec, ComponentSpec, ModalitySpec

__all__ = ["IMAGE", "PREPROCESS", "RESNET", "VIT", "SMALL"]

_ENC = frozenset({"encoder"})

IMAGE = ModalitySpec(
    token="IMAGE",
    doc="pictures (path, bytes, base64, PIL image or HWC array), resized keeping the aspect ratio, as patch features",
    default_preprocessor="image",
    default_adapter="image.resnet",
    default_head=None,
)

PREPROCESS = ComponentSpec(
    kind="preprocessor", name="image", modality="IMAGE",
    target="polymodal_modality_image.preprocess:ImagePreprocessor",
    doc="decode (EXIF-aware), resize the long side to `size` keeping the aspect ratio, pad to `stride`, "
        "normalise; training-time augmentation whose geometry a BOX of the same row follows",
    sides=_ENC,
    attributes=(
        AttrSpec("size", "int", "length of the long side after resizing, in pixels", default=256,
                 minimum=16, maximum=2048),
        AttrSpec("stride", "int", "pad height and width to a multiple of this (the adapter's patch stride)",
                 default=16, minimum=1, maximum=64),
        AttrSpec("augment", "flag", "augment in training (scale jitter, optional crop/flip, colour jitter)",
                 default=True),
        AttrSpec("scale_jitter", "float", "training: the long side is drawn from [size*(1-scale_jitter), size]",
                 default=0.25, minimum=0.0, maximum=0.9),
        AttrSpec("crop", "float", "training: keep a random crop of at least this fraction of the area "
                 "(1 = no cropping; crops can cut off objects that text or boxes mention)",
                 default=1.0, minimum=0.05, maximum=1.0),
        AttrSpec("flip", "float", "training: probability of a horizontal flip (default 0: text often says "
                 "left or right)", default=0.0, minimum=0.0, maximum=1.0),
        AttrSpec("color_jitter", "float", "training: brightness/contrast/saturation jitter strength (no hue "
                 "change, so colour names stay true)", default=0.2, minimum=0.0, maximum=0.9),
        AttrSpec("norm", "choice", "pixel normalisation: mean/std 0.5 (OFA) or ImageNet's", default="half",
                 choices=("half", "imagenet")),
    ),
)

RESNET = ComponentSpec(
    kind="adapter", name="image.resnet", modality="IMAGE",
    target="polymodal_modality_image.adapters:ResNetAdapter",
    doc="OFA's image encoder: timm ResNet-50/101/152 cut after layer3 (stride 16, 1024 ch), Linear to d_model, "
        "2-D learned positions; weights from a local file or random",
    sides=_ENC,
    options={"depth": "resnet50", "weights": None, "max_grid": 64, "drop_path_rate": 0.0},
)

VIT = ComponentSpec(
    kind="adapter", name="image.vit", modality="IMAGE",
    target="polymodal_modality_image.adapters:ViTAdapter",
    doc="timm Vision Transformer on 16-px patches (depth=0: patch embedding only), Linear to d_model, "
        "2-D learned positions; weights from a local file or random",
    sides=_ENC,
    options={"arch": "vit_tiny_patch16_224", "depth": None, "weights": None, "max_grid": 64},
)

SMALL = ComponentSpec(
    kind="adapter", name="image.small", modality="IMAGE",
    target="polymodal_modality_image.adapters:SmallConvAdapter",
    doc="a ~100k-parameter strided conv stem (stride 8 or 16) for CPU training on toy scenes, 2-D positions",
    sides=_ENC,
    options={"stride": 8, "width": 32, "max_grid": 64},
)
