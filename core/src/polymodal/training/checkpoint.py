"""Checkpoints: a directory of safetensors and JSON, written atomically, read without unpickling.

Layout::

    model.safetensors          network weights
    config.json                architecture, vocabulary layout, resources, tasks, plugin versions
    resources/<key>/...        resource files (the text tokenizer's tokenizer.json)
    trainer/optimizer.safetensors, trainer/state.json   (training checkpoints only)

A checkpoint is written into a hidden temporary directory next to its destination and renamed into place, so
a crash (even ``kill -9``) never leaves a half checkpoint under the final name.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import torch
from safetensors.torch import load_file, save_file

from polymodal.components import resolve_target
from polymodal.errors import PolymodalError

if TYPE_CHECKING:
    from polymodal.api.model import GeneralistModel

__all__ = ["write_checkpoint", "read_model", "read_trainer_state", "latest_checkpoint", "CheckpointError"]


class CheckpointError(PolymodalError):
    """A checkpoint directory that is missing, incomplete or of another format."""


def _tensors(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in state.items()}


def write_checkpoint(model: "GeneralistModel", path: Path, trainer_state: Mapping[str, Any] | None = None, *,
                     model_state: Mapping[str, torch.Tensor] | None = None,
                     optimizer_state: Mapping[str, Any] | None = None) -> Path:
    """Write ``model`` (and optionally the trainer state) to ``path`` atomically; returns ``path``.

    ``model_state`` replaces ``model.net.state_dict()`` (a sharded run passes the whole state it gathered);
    ``optimizer_state`` is an unsharded optimizer's state dict, stored with the trainer state.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    config = model.config_dict()
    for key, res in model.ctx.resources.items():
        cfg = res.save(str(tmp / "resources" / key))
        config["resources"][key] = {"target": model._resource_targets.get(key, ""), "config": cfg}
    save_file(_tensors(model_state if model_state is not None else model.net.state_dict()),
              str(tmp / "model.safetensors"))
    if trainer_state is not None:
        (tmp / "trainer").mkdir()
        tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state()}
        groups = None
        if optimizer_state is not None:
            for idx, st in optimizer_state["state"].items():
                for name, value in st.items():
                    tensors[f"opt.{idx}.{name}"] = torch.as_tensor(value)
            groups = optimizer_state["param_groups"]
        save_file(_tensors(tensors), str(tmp / "trainer" / "optimizer.safetensors"))
        (tmp / "trainer" / "state.json").write_text(json.dumps({**trainer_state, "param_groups": groups}, indent=1))
    (tmp / "config.json").write_text(json.dumps(config, indent=1))
    _fsync_tree(tmp)
    if path.exists():
        old = path.parent / f".{path.name}.old-{os.getpid()}"
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    return path


def _fsync_tree(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())


def _config(path: Path) -> dict[str, Any]:
    from polymodal.api.model import CHECKPOINT_FORMAT

    cfg_file = path / "config.json"
    if not cfg_file.exists() or not (path / "model.safetensors").exists():
        raise CheckpointError(f"{path} is not a polymodal checkpoint (config.json and model.safetensors expected)")
    config = json.loads(cfg_file.read_text())
    if config.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} has format {config.get('format')!r}; this polymodal reads {CHECKPOINT_FORMAT}")
    return config


def read_model(cls: type, path: Path, registry: Any, device: str = "cpu") -> "GeneralistModel":
    """Rebuild a :class:`GeneralistModel` from a checkpoint directory."""
    from polymodal.api.model import TaskRecord
    from polymodal.engine.generalist import GeneralistNet
    from polymodal.model import ModelConfig
    from polymodal.preprocessing import BuildContext
    from polymodal.vocab import VocabLayout

    config = _config(path)
    model = cls(config["size"], registry=registry)
    resources = {}
    for key, entry in config["resources"].items():
        res_cls = resolve_target(entry["target"])
        resources[key] = res_cls.load(str(path / "resources" / key), entry["config"])
        model._resource_targets[key] = entry["target"]
    model.ctx = BuildContext(VocabLayout.from_dict(config["layout"]), resources)
    adapters = {k: (t, o) for k, (t, o) in config["adapters"].items()}
    model.net = GeneralistNet(ModelConfig.from_dict(config["model"]), adapters, model.spatial_ranges())
    state = load_file(str(path / "model.safetensors"))
    missing, unexpected = model.net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not match the architecture (missing {missing[:5]}, "
                              f"unexpected {unexpected[:5]})")
    model.net.to(device)
    model.tasks = {t["name"]: TaskRecord(**t) for t in config["tasks"]}
    return model


def read_trainer_state(path: Path, load_optimizer: Callable[[dict[str, Any]], None] | None = None
                       ) -> dict[str, Any]:
    """Restore the torch RNG from a training checkpoint and return the trainer's JSON state; the stored optimizer
    state dict (unsharded, parameters keyed by index) goes to ``load_optimizer``."""
    state_file = path / "trainer" / "state.json"
    if not state_file.exists():
        raise CheckpointError(f"{path} holds no trainer state (a model-only checkpoint cannot be resumed)")
    state = json.loads(state_file.read_text())
    tensors = load_file(str(path / "trainer" / "optimizer.safetensors"))
    torch.set_rng_state(tensors["rng.torch"])
    if load_optimizer is not None and state.get("param_groups") is not None:
        per_param: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("opt."):
                _, idx, name = key.split(".", 2)
                per_param.setdefault(int(idx), {})[name] = value
        load_optimizer({"state": per_param, "param_groups": state["param_groups"]})
    return state


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run (the ``latest`` pointer, written atomically)."""
    pointer = Path(run_dir) / "latest"
    if not pointer.exists():
        return None
    target = Path(run_dir) / pointer.read_text().strip()
    return target if (target / "config.json").exists() else None
