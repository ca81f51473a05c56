"""Training with snapshots: the gradient-coloured graph of a model at chosen training steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import viz
from ..nn.module import Module


def snapshots(model: Module, loss_fn: Any, batches: Iterable[tuple[Any, Any]],
              optimizer: Any, steps: Sequence[int] = (0, 10, 100), out: str | Path | None = None,
              **options: Any) -> list[viz.Graph]:
    """Train `model` with `optimizer` on `batches` (cycled) and draw the gradient-coloured
    graph at each step in `steps`, on one shared colour scale (see
    `tinygrad_nd.viz.draw_snapshots`, which also takes `out` and drawing options).

    Examples
    --------
    >>> import numpy as np, tinygrad_nd as tg
    >>> from tinygrad_nd import nn, optim
    >>> from tinygrad_nd.experiments import snapshots
    >>> net = nn.mlp([4, 3, 2], activation="sigmoid")
    >>> graphs = snapshots(net, nn.functional.cross_entropy, [(tg.randn(8, 4), np.arange(8) % 2)],
    ...                    optim.SGD(net.parameters(), lr=0.5), steps=[0, 2])
    >>> [g.source.count("step") for g in graphs]
    [1, 1]
    """
    batches = list(batches)
    recorded: list[viz.Snapshot] = []
    wanted = sorted(set(steps))
    step = 0
    while wanted and step <= wanted[-1]:
        xb, yb = batches[step % len(batches)]
        with viz.trace(model):
            loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        with viz.record_grads():
            loss.backward()
        if step in wanted:  # norms now, before the optimizer changes the weights
            recorded.append(viz.snapshot(step, loss, model))
        optimizer.step()
        step += 1
    return viz.draw_snapshots(recorded, out, **options)
