"""Training data streams: deterministic, resumable, length-bucketed batches per task.

Each task's rows are validated once (every row is preprocessed in evaluation mode: a bad row raises, or is
skipped and counted when the task says so) and measured. Each epoch's batches follow from ``(seed, task,
epoch)`` alone: rows are shuffled, cut into chunks, sorted by length inside a chunk, packed under the token
budget, and the batches shuffled. A stream's state is ``(epoch, cursor)``, so training resumes exactly.
"""
from __future__ import annotations

import random
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from polymodal.engine.batch import Batch, Collator
from polymodal.errors import DataError

__all__ = ["TaskStream", "row_rng"]


def row_rng(seed: int, task: str, epoch: int, index: int) -> random.Random:
    """The random stream of one row in one epoch (masking, noise, augmentation): independent of workers."""
    return random.Random(f"{seed}:{task}:{epoch}:{index}")


class _EpochBatches(Dataset):
    def __init__(self, stream: "TaskStream", epoch: int, batches: list[list[int]]) -> None:
        self.rows, self.encoders, self.collators = stream.rows, stream.encoders, stream.collators
        self.name, self.seed, self.epoch, self.batches = stream.name, stream.seed, epoch, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, k: int) -> Batch:
        choice = random.Random(f"{self.seed}:{self.name}:{self.epoch}:batch{k}").randrange(len(self.encoders))
        enc = self.encoders[choice]
        items = [(i, enc.encode(self.rows[i], train=True, rng=row_rng(self.seed, self.name, self.epoch, i), index=i))
                 for i in self.batches[k]]
        return self.collators[choice](items)


class TaskStream:
    """Batches of one task, epoch after epoch.

    Args:
        name: task name.
        rows: the training rows (already validated).
        lengths: token length of each row.
        encoders: one row encoder per instruction of the task.
        collators: one collator per encoder.
        batch_size, max_tokens: batch limits.
        seed: the run's seed.
        num_workers: DataLoader workers.
    """

    def __init__(self, name: str, rows: Sequence[dict], lengths: Sequence[int], encoders: Sequence[Any],
                 collators: Sequence[Collator], *, batch_size: int, max_tokens: int, seed: int,
                 num_workers: int = 0) -> None:
        self.name, self.rows, self.lengths = name, list(rows), np.asarray(lengths)
        self.encoders, self.collators = list(encoders), list(collators)
        self.batch_size, self.max_tokens, self.seed, self.num_workers = batch_size, max_tokens, seed, num_workers
        self.epoch, self.cursor = 0, 0
        self._iter: Iterator[Batch] | None = None
        self._batches: list[list[int]] = []

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch, sum(map(ord, self.name))])
        order = rng.permutation(len(self.rows))
        chunk = max(self.batch_size * 32, 1)
        batches: list[list[int]] = []
        for start in range(0, len(order), chunk):
            part = sorted(order[start:start + chunk].tolist(), key=lambda i: self.lengths[i])
            current: list[int] = []
            for i in part:
                longest = max([self.lengths[j] for j in current] + [self.lengths[i]])
                if current and (len(current) >= self.batch_size or longest * (len(current) + 1) > self.max_tokens):
                    batches.append(current)
                    current = []
                current.append(i)
            if current:
                batches.append(current)
        perm = rng.permutation(len(batches))
        return [batches[k] for k in perm]

    def _open(self) -> None:
        self._batches = self.epoch_batches(self.epoch)
        dataset = _EpochBatches(self, self.epoch, self._batches)
        loader = DataLoader(dataset, batch_size=None, sampler=range(self.cursor, len(dataset)),
                            num_workers=self.num_workers, generator=torch.Generator().manual_seed(self.seed),
                            collate_fn=lambda b: b)
        self._iter = iter(loader)

    def next(self) -> Batch:
        """The next batch (opening a new epoch when one ends)."""
        while True:
            if self._iter is None:
                self._open()
            try:
                batch = next(self._iter)
            except StopIteration:
                self.epoch, self.cursor, self._iter = self.epoch + 1, 0, None
                continue
            self.cursor += 1
            return batch

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def restore(self, state: dict[str, int]) -> None:
        self.epoch, self.cursor, self._iter = int(state["epoch"]), int(state["cursor"]), None


def validate_rows(task: Any, encoders: Sequence[Any], rows: Sequence[dict]) -> tuple[list[dict], list[int], int]:
    """Preprocess every row once (evaluation mode) with every instruction of the task.

    Returns the usable rows, their lengths (encoder + target tokens) and how many rows were skipped.
    A bad row raises a :class:`DataError` naming task, row and column, unless ``task.skip_bad_rows``.
    """
    kept, lengths, skipped = [], [], 0
    for i, row in enumerate(rows):
        try:
            length = 0
            for enc in encoders:
                ex = enc.encode(row, train=False, index=i)
                if ex.target is None:
                    raise DataError("missing target column", task=task.name, row=i,
                                    column=next((c for c in enc.plan.target_columns() if c not in row), None))
                length = max(length, len(ex.encoder_tokens) + 64 * sum(p[0] == "features" for p in ex.encoder_pieces)
                             + len(ex.target))
        except DataError:
            if task.skip_bad_rows:
                skipped += 1
                continue
            raise
        kept.append(row)
        lengths.append(length)
    return kept, lengths, skipped
