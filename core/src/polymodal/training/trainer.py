"""The multi-task trainer.

Every step draws batches from the tasks by the configured mixture, normalises each task's loss by its own
scored-token count (OFASys divides a sum of token losses and per-batch means by one shared count), weights and
sums them, and takes one AdamW update (warm-up + decay, clipping, accumulation, optional bf16). Under
``torchrun`` each rank takes its share of every global batch and the gradients are averaged, replicated or
sharded (FSDP; see :mod:`polymodal.training.distributed`), so N processes compute the update of one process with
the same global batch. Tasks join the mixture at their ``start_step`` (a curriculum). Evaluation is
corpus-level per task; logs go to JSONL (and TensorBoard), curves to a PNG, checkpoints are atomic and a
resumed run continues with the same losses as an uninterrupted one.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from polymodal.engine.batch import Collator
from polymodal.errors import PolymodalError
from polymodal.training.checkpoint import latest_checkpoint, read_trainer_state, write_checkpoint
from polymodal.training.config import SAMPLED_MIXTURES, TrainerConfig
from polymodal.training.data import TaskStream, validate_rows
from polymodal.training.distributed import (apply_fsdp, average_gradients, full_model_state, full_optimizer_state,
                                            gathered, init_distributed, load_optimizer_state, shard, wants_fsdp)
from polymodal.training.evaluation import evaluate_task
from polymodal.training.logs import RunLog

__all__ = ["Trainer"]


class Trainer:
    """Train a :class:`~polymodal.api.model.GeneralistModel` on several tasks at once.

    Args:
        config: a :class:`TrainerConfig` (or keyword arguments for one).
    """

    def __init__(self, config: TrainerConfig | None = None, **options: Any) -> None:
        self.config = config or TrainerConfig(**options)
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.skipped: dict[str, int] = {}
        self.rows_seen = 0  # rows this process trained on (its shard of each global batch)
        self.sharded = False  # FSDP under torchrun (see polymodal.training.distributed)

    # -- set-up --------------------------------------------------------------------------------------------
    def _streams(self, model: Any, tasks: Sequence[Any]) -> dict[str, TaskStream]:
        cfg = self.config
        streams = {}
        for task in tasks:
            rows = task.rows("train")
            if not rows:
                raise PolymodalError(f"task {task.name!r} has no training rows (task.add_dataset(..., 'train'))")
            record = model.tasks[task.name]
            encoders = [model.encoder(i, record.closed_sets, task.name) for i in task.instructions]
            kept, lengths, skipped = validate_rows(task, encoders, rows)
            if not kept:
                raise PolymodalError(f"task {task.name!r}: every training row was skipped as malformed")
            self.skipped[task.name] = skipped
            collators = [Collator(e.columns, model._adapter_targets(e)) for e in encoders]
            streams[task.name] = TaskStream(task.name, kept, lengths, encoders, collators,
                                            batch_size=cfg.batch_size, max_tokens=cfg.max_tokens, seed=cfg.seed,
                                            num_workers=cfg.num_workers)
        return streams

    def _choose(self, tasks: Sequence[Any], streams: dict[str, TaskStream], step: int, micro: int) -> list[Any]:
        cfg = self.config
        tasks = [t for t in tasks if getattr(t, "start_step", 0) <= step] or list(tasks)
        if cfg.mixture == "all":
            return list(tasks)
        if cfg.mixture == "round_robin":
            return [tasks[(step * cfg.grad_accum + micro) % len(tasks)]]
        sizes = np.array([len(streams[t.name].rows) for t in tasks], dtype=np.float64)
        if cfg.mixture == "temperature":
            sizes = sizes ** (1.0 / cfg.temperature)
        sizes = sizes * np.array([getattr(t, "rate", 1.0) for t in tasks])
        rng = np.random.default_rng([cfg.seed, step, micro])
        return [tasks[int(rng.choice(len(tasks), p=sizes / sizes.sum()))]]

    # -- the loop --------------------------------------------------------------------------------------------
    def fit(self, model: Any, tasks: Sequence[Any], *, resume: bool | str | Path = False) -> dict[str, Any]:
        """Train ``model`` on ``tasks``; returns the final evaluation metrics per task.

        A task joins the mixture at its ``start_step`` (0 by default); until any task has started, all do.

        Args:
            model: a :class:`GeneralistModel` (built here from the tasks' data when new).
            tasks: :class:`~polymodal.api.task.Task` objects with training data.
            resume: ``True`` to continue from the newest checkpoint in ``out_dir`` (if any), or a checkpoint
                path.
        """
        cfg = self.config
        rated = [t.name for t in tasks if getattr(t, "rate", 1.0) != 1.0]
        if rated and cfg.mixture not in SAMPLED_MIXTURES:
            raise ValueError(f"tasks {rated} set a sampling rate, which only the 'proportional' and "
                             f"'temperature' mixtures use; mixture is {cfg.mixture!r}")
        torch.manual_seed(cfg.seed)
        rank, world = init_distributed()
        out = Path(cfg.out_dir)
        ckpt = None
        if resume:
            ckpt = Path(resume) if isinstance(resume, (str, Path)) and resume is not True else latest_checkpoint(out)
        if ckpt is not None:
            loaded = type(model).from_pretrained(ckpt, registry=model.registry)
            model.net, model.ctx, model.tasks = loaded.net, loaded.ctx, loaded.tasks
            model._resource_targets, model._encoders = loaded._resource_targets, {}
        model.build(tasks)
        net = model.net.to(cfg.device)
        if world > 1:
            for p in net.parameters():  # identical start on every rank
                torch.distributed.broadcast(p.data, 0)
        self.sharded = wants_fsdp(cfg.parallel, net, world, cfg.fsdp_min_params)
        if self.sharded:
            apply_fsdp(net, cfg.device)
        decay = [p for n, p in net.named_parameters() if p.dim() > 1 and "embed" not in n]
        no_decay = [p for n, p in net.named_parameters() if not (p.dim() > 1 and "embed" not in n)]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=cfg.betas,
                                      eps=cfg.eps, foreach=True)
        streams = self._streams(model, tasks)
        log = RunLog(out, tensorboard=cfg.tensorboard and rank == 0) if rank == 0 else None
        self.step = 0
        if ckpt is not None:
            state = read_trainer_state(ckpt, lambda sd: load_optimizer_state(net, optimizer, sd, self.sharded))
            self.step = int(state["step"])
            for name, st in state["streams"].items():
                if name in streams:
                    streams[name].restore(st)
            if log is not None:
                log.truncate_after(self.step)
        ranges = {t.name: model.task_encoder(t.name).columns.ranges for t in tasks}
        ordinal = {t.name: model.ordinal_columns(t.name) for t in tasks}
        primary = {t.name: model.tasks[t.name].primary_metric for t in tasks}
        progress = None
        if cfg.progress and rank == 0:
            from tqdm.auto import tqdm

            progress = tqdm(total=cfg.max_steps, initial=self.step, desc="training", dynamic_ncols=True)
        net.train()
        autocast = (torch.autocast(device_type=torch.device(cfg.device).type, dtype=torch.bfloat16)
                    if cfg.bf16 else contextlib.nullcontext())
        hooks = model.registry.hooks
        running: dict[str, list[float]] = {}
        try:
            while self.step < cfg.max_steps:
                lr = cfg.lr_at(self.step)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                hooks.before_train_step(self, self.step, [t.name for t in tasks])
                step_losses: dict[str, float] = {}
                for micro in range(cfg.grad_accum):
                    for task in self._choose(tasks, streams, self.step, micro):
                        batch = shard(streams[task.name].next(), rank, world).to(cfg.device)
                        self.rows_seen += batch.size
                        with autocast:
                            loss_sum, nll_sum, n_tok = net.loss(batch, ranges[task.name], cfg.label_smoothing,
                                                                       ordinal[task.name], cfg.ordinal_sigma)
                        n_global = n_tok.detach().clone().float()
                        if world > 1:
                            torch.distributed.all_reduce(n_global)
                        weight = task.weight * world / cfg.grad_accum
                        (loss_sum.float() / n_global.clamp_min(1) * weight).backward()
                        step_losses[task.name] = float(loss_sum.detach() / n_tok.clamp_min(1))
                if world > 1 and not self.sharded:  # FSDP reduce-scatters the gradients in backward
                    average_gradients(net, world)
                if cfg.clip_norm:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                self.step += 1
                for name, value in step_losses.items():
                    running.setdefault(name, []).append(value)
                    if log is not None:
                        log.write({"step": self.step, "task": name, "loss": value, "lr": lr})
                hooks.after_train_step(self, self.step, step_losses)
                if progress is not None:
                    progress.update(1)
                    if self.step % cfg.log_every == 0 or self.step == cfg.max_steps:
                        progress.set_postfix({k: f"{np.mean(v[-cfg.log_every:]):.3f}" for k, v in running.items()})
                if cfg.eval_every and self.step % cfg.eval_every == 0 and self.step < cfg.max_steps:
                    self._evaluate(model, tasks, log, rank)
                if cfg.save_every and self.step % cfg.save_every == 0 and self.step < cfg.max_steps:
                    self._save(model, optimizer, streams, out, rank)
        finally:
            if progress is not None:
                progress.close()
        metrics = self._evaluate(model, tasks, log, rank)
        self._save(model, optimizer, streams, out, rank)
        if rank == 0:
            if log is not None:
                log.plot(primary)
                log.close()
        return metrics

    def _evaluate(self, model: Any, tasks: Sequence[Any], log: RunLog | None, rank: int) -> dict[str, Any]:
        cfg = self.config
        results: dict[str, Any] = {}
        if not cfg.eval_split:
            return results
        for task in tasks:
            rows = task.rows(cfg.eval_split)[: cfg.eval_rows]
            if not rows:
                continue
            with gathered(model.net):  # every rank generates with the whole model
                metrics, _ = evaluate_task(model, task.name, rows)
            results[task.name] = metrics
            if log is not None:
                log.write({"step": self.step, "task": task.name, "split": cfg.eval_split, "metrics": metrics})
            model.registry.hooks.after_evaluate(self, self.step, task.name, metrics)
        return results

    def _save(self, model: Any, optimizer: torch.optim.Optimizer, streams: dict[str, TaskStream], out: Path,
              rank: int) -> Path | None:
        # rank 0 writes; every rank takes part in gathering a sharded model first
        if rank != 0 and not self.sharded:
            return None
        model_state = full_model_state(model.net, self.sharded)
        optimizer_state = full_optimizer_state(model.net, optimizer, self.sharded)
        if rank != 0:
            return None
        name = f"step-{self.step:07d}"
        state = {"step": self.step, "streams": {k: s.state() for k, s in streams.items()},
                 "config": self.config.to_dict(), "skipped": self.skipped}
        path = write_checkpoint(model, out / name, state, model_state=model_state, optimizer_state=optimizer_state)
        pointer_tmp = out / ".latest.tmp"
        pointer_tmp.write_text(name)
        os.replace(pointer_tmp, out / "latest")
        kept = sorted(p for p in out.glob("step-*") if p.is_dir())
        for old in kept[: max(0, len(kept) - self.config.keep_last)]:
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return path
