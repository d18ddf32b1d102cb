"""Training logs: a JSONL file of losses and metrics, a PNG of the curves per task, TensorBoard if installed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

__all__ = ["RunLog", "task_colours"]


def task_colours(tasks: list[str]) -> dict[str, Any]:
    """One colour per task, all different, the same on every panel: matplotlib's default cycle repeats after 10
    (the demo trains 11 tasks), and each panel would cycle on its own, past tasks it has no points for."""
    import matplotlib

    n = len(tasks)
    if n <= 10:
        palette = [matplotlib.colormaps["tab10"](i) for i in range(n)]
    elif n <= 20:
        palette = [matplotlib.colormaps["tab20"](i) for i in range(n)]
    else:
        palette = [matplotlib.colormaps["turbo"](i / (n - 1)) for i in range(n)]
    return dict(zip(tasks, palette))


class RunLog:
    """Appends records to ``<dir>/log.jsonl`` and draws ``<dir>/curves.png``."""

    def __init__(self, directory: Path, tensorboard: bool = True) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "log.jsonl"
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.dir / "tensorboard"))
            except Exception:  # TensorBoard is optional
                self._tb = None

    def truncate_after(self, step: int) -> None:
        """Drop records past ``step`` (a resumed run rewrites them)."""
        if not self.path.exists():
            return
        keep = [line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step]
        self.path.write_text("".join(line + "\n" for line in keep))

    def write(self, record: Mapping[str, Any]) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self._tb is not None:
            step = int(record.get("step", 0))
            task = record.get("task", "all")
            for key in ("loss", "nll", "lr"):
                if key in record:
                    self._tb.add_scalar(f"{task}/{key}", record[key], step)
            for ev, values in record.get("metrics", {}).items():
                for k, v in values.items():
                    self._tb.add_scalar(f"{task}/{ev}.{k}", v, step)

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def plot(self, primary: Mapping[str, str] | None = None) -> Path:
        """Draw the loss of each task and its primary metric over steps."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        records = self.records()
        tasks = sorted({r["task"] for r in records if "task" in r})
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        colours = task_colours(tasks)
        for task in tasks:
            losses = [(r["step"], r["loss"]) for r in records if r.get("task") == task and "loss" in r]
            if losses:
                axes[0].plot(*zip(*losses), label=task, color=colours[task])
            key = (primary or {}).get(task, "")
            ev, _, metric = key.rpartition(".")
            points = [(r["step"], r["metrics"][ev][metric]) for r in records
                      if r.get("task") == task and ev in r.get("metrics", {}) and metric in r["metrics"][ev]]
            if points:
                axes[1].plot(*zip(*points), marker="o", label=f"{task}: {key}", color=colours[task])
        axes[0].set(title="training loss per task", xlabel="step", ylabel="loss (per token)")
        axes[1].set(title="primary metric per task (valid)", xlabel="step")
        for ax in axes:
            if ax.lines:
                ax.legend(fontsize=7)
        fig.tight_layout()
        out = self.dir / "curves.png"
        fig.savefig(out, dpi=100)
        plt.close(fig)
        return out

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
