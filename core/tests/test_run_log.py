"""The training log's picture: one colour per task, the same on both panels."""
from __future__ import annotations

import pytest

from polymodal.training.logs import RunLog, task_colours


@pytest.mark.parametrize("n", [3, 11, 25])  # the demo trains 11 tasks: past matplotlib's 10-colour cycle
def test_every_task_gets_its_own_colour(n):
    colours = task_colours([f"task{i}" for i in range(n)])
    assert len(colours) == n and len(set(colours.values())) == n


def test_a_task_keeps_its_colour_on_both_panels(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log = RunLog(tmp_path, tensorboard=False)
    for step in (1, 2):
        for task in ("a", "b", "c"):
            log.write({"step": step, "task": task, "loss": 1.0 / step})
    # only "c" has metric points: the right panel's own colour cycle would give it the first colour
    log.write({"step": 2, "task": "c", "metrics": {"acc": {"acc": 0.5}}})
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    assert log.plot({"c": "acc.acc"}).stat().st_size > 1000
    losses, metrics = figures[0].axes
    loss_colour = {line.get_label(): line.get_color() for line in losses.lines}
    assert len(set(loss_colour.values())) == 3
    assert [line.get_color() for line in metrics.lines] == [loss_colour["c"]]
