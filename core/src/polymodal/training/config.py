"""Trainer configuration (plain data: it is stored in every training checkpoint and read from YAML)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from polymodal.errors import PolymodalError

__all__ = ["TrainerConfig", "MIXTURES", "SAMPLED_MIXTURES", "SCHEDULES"]

MIXTURES = ("all", "proportional", "temperature", "round_robin")
#: The mixtures that draw one task per micro-step at random (and so honour ``Task(rate=...)``).
SAMPLED_MIXTURES = ("proportional", "temperature")
SCHEDULES = ("constant", "linear", "cosine")


@dataclass
class TrainerConfig:
    """How to train.

    Args:
        max_steps: optimiser updates.
        batch_size: most rows per batch (per task).
        max_tokens: token budget per batch (encoder + decoder tokens, padded); batches are built by length
            buckets so that little of the budget is padding.
        lr: peak learning rate. weight_decay, betas, eps: AdamW.
        warmup_steps: linear warm-up; then ``schedule`` (``constant``, ``linear`` or ``cosine`` decay to
            ``min_lr_ratio * lr``).
        clip_norm: gradient-norm clipping (0 disables).
        grad_accum: micro-steps per update.
        mixture: how tasks share steps: ``all`` (every task every step, OFASys), ``proportional`` (one task per
            micro-step, by data size), ``temperature`` (by size^(1/temperature)), ``round_robin``. The two
            sampled mixtures multiply each task's share by its ``Task(rate=...)``.
        label_smoothing: epsilon of the label-smoothed cross-entropy.
        ordinal_sigma: targets in ordered token spaces (location bins) are spread as a Gaussian of this many
            bins around the target instead of label-smoothed; 0 for plain label smoothing there too.
        bf16: bf16 autocast.
        eval_every: evaluate every N steps (0: only at the end); eval_rows caps the rows per task;
            eval_split names the split ('' turns evaluation off).
        save_every: write a training checkpoint every N steps (0: only at the end); keep_last of them are kept.
        out_dir: run directory (checkpoints, logs, plots).
        num_workers: DataLoader workers for preprocessing.
        log_every: steps between log lines.
        device: ``cpu`` or ``cuda``.
        parallel: under ``torchrun``: ``ddp`` (replicate the model), ``fsdp`` (shard parameters, gradients and
            optimizer state), or ``auto`` (``fsdp`` for models of ``fsdp_min_params`` parameters or more).
        progress: show a progress bar.
        tensorboard: also log to TensorBoard when it is installed.
    """

    max_steps: int = 1000
    batch_size: int = 16
    max_tokens: int = 4096
    lr: float = 5e-4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    warmup_steps: int = 100
    schedule: str = "linear"
    min_lr_ratio: float = 0.0
    clip_norm: float = 1.0
    grad_accum: int = 1
    mixture: str = "proportional"
    temperature: float = 2.0
    label_smoothing: float = 0.1
    ordinal_sigma: float = 1.0
    bf16: bool = False
    eval_every: int = 0
    eval_rows: int = 256
    eval_split: str = "valid"
    save_every: int = 0
    keep_last: int = 2
    out_dir: str = "runs/run"
    seed: int = 0
    num_workers: int = 0
    log_every: int = 10
    device: str = "cpu"
    parallel: str = "auto"
    fsdp_min_params: int = 300_000_000
    progress: bool = True
    tensorboard: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ordinal_sigma < 0:
            raise PolymodalError(f"ordinal_sigma must be >= 0 (0 turns it off), got {self.ordinal_sigma}")
        if self.parallel not in ("auto", "ddp", "fsdp"):
            raise PolymodalError(f"parallel must be auto, ddp or fsdp, got {self.parallel!r}")
        if self.mixture not in MIXTURES:
            raise PolymodalError(f"mixture must be one of {', '.join(MIXTURES)}, got {self.mixture!r}")
        if self.schedule not in SCHEDULES:
            raise PolymodalError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        for name in ("max_steps", "batch_size", "max_tokens", "grad_accum"):
            if getattr(self, name) < 1:
                raise PolymodalError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.eval_split not in ("", "train", "valid", "test"):
            raise PolymodalError(f"eval_split must be train, valid, test or '' (no evaluation), got {self.eval_split!r}")
        self.betas = tuple(self.betas)  # YAML gives lists

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainerConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise PolymodalError(f"unknown trainer option(s): {', '.join(unknown)} (known: {', '.join(sorted(names))})")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    def lr_at(self, step: int) -> float:
        """Learning rate for update ``step`` (0-based)."""
        import math

        if self.warmup_steps and step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        if self.schedule == "constant":
            return self.lr
        span = max(1, self.max_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        floor = self.lr * self.min_lr_ratio
        if self.schedule == "linear":
            return floor + (self.lr - floor) * (1 - progress)
        return floor + (self.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))
