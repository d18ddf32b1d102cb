"""Loading image-backbone weights from a local file, never from a hub, never by unpickling.

A weights file is either ``.safetensors`` or a torch state dict read with ``torch.load(weights_only=True)``
(plain tensors only; arbitrary pickled objects are refused by torch). It may hold the whole adapter's state (keys
``backbone.*``, ``proj.*``, ...), or only the backbone's (e.g. a timm ``resnet50`` state dict: its ``fc.*`` and
``layer4.*`` keys, which the cut backbone lacks, are ignored). A ``state_dict``/``model`` wrapper and a DDP
``module.`` prefix are unwrapped.
"""
from __future__ import annotations

import os
from typing import Mapping

import torch
from torch import Tensor, nn

from polymodal.errors import PluginError

__all__ = ["read_state_dict", "load_weights"]


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a ``.safetensors`` file or a plain torch state dict.

    Raises:
        PluginError: the file is missing, or is not a plain mapping of names to tensors.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise PluginError(f"image adapter weights: no such file '{path}' (weights are only read from local files)")
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        try:
            return dict(load_file(path, device="cpu"))
        except Exception as exc:  # safetensors raises its own error types
            raise PluginError(f"image adapter weights: '{path}' is not a readable safetensors file ({exc})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses pickled code with an UnpicklingError
        raise PluginError(f"image adapter weights: '{path}' is not a plain torch state dict readable with "
                          f"weights_only=True ({type(exc).__name__}: {str(exc)[:200]})") from None
    for key in ("state_dict", "model", "module"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping):
        raise PluginError(f"image adapter weights: '{path}' holds a {type(state).__name__}, not a state dict")
    return {str(k): v for k, v in state.items() if isinstance(v, Tensor)}


def _strip(state: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}


def load_weights(adapter: nn.Module, backbone: nn.Module, path: str | os.PathLike) -> list[str]:
    """Copy the tensors of ``path`` that fit into ``adapter`` (whole-adapter keys) or ``backbone``.

    Returns:
        The names of the adapter parameters/buffers that were loaded.

    Raises:
        PluginError: nothing in the file fits, or a fitting name has the wrong shape.
    """
    state = _strip(read_state_dict(path), "module.")
    own = adapter.state_dict()
    if any(k in own for k in state):
        target, prefix = adapter, ""
    else:
        target, prefix = backbone, "backbone."
    want = target.state_dict()
    fits = {k: v for k, v in state.items() if k in want}
    wrong = [f"{k}: file {tuple(v.shape)} vs model {tuple(want[k].shape)}" for k, v in fits.items()
             if v.shape != want[k].shape]
    if wrong:
        raise PluginError(f"image adapter weights '{os.fspath(path)}' do not fit this backbone (another depth or "
                          f"architecture?): {'; '.join(wrong[:5])}")
    if not fits:
        raise PluginError(f"image adapter weights '{os.fspath(path)}': none of its {len(state)} tensors matches a "
                          f"parameter of the backbone (first keys: {', '.join(list(state)[:3])})")
    target.load_state_dict(fits, strict=False)
    return [prefix + k for k in fits]
