"""Training with snapshots: the gradient-coloured graph of a model at chosen training steps,
and the interactive page that moves through them (`SnapshotRun.to_html`)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import viz, viz_html
from ..diagnostics.layers import weighted_layers
from ..diagnostics.norms import l2_norm
from ..nn.module import Module
from ..tensor import Tensor
from .common import Report, build_net, nielsen_cross_entropy


class SnapshotRun(list):
    """What `snapshots` returns: the drawings (a list of `viz.Graph`, one per recorded
    step, as before) and what the interactive page needs.

    Parameters
    ----------
    graphs : list of viz.Graph
        The drawings, one per recorded step: the list's items.

    Attributes
    ----------
    snapshots : list of viz.Snapshot
        The recorded steps (loss graph, parameters, gradient norm of every node).
    speeds : dict layer name -> list of float
        `‖∂C/∂b‖` of each weighted layer at every training step (Nielsen's speed of
        learning), or `‖∂C/∂W‖` when some layer has no bias; `speed_label` says which.
    speed_label : str
        The curves' axis label, naming which of the two `speeds` holds.
    options : dict
        The drawing options the graphs were drawn with (`collapse`, `max_nodes`...),
        passed on to the page.
    """

    def __init__(self, graphs: list[viz.Graph], snapshots: list[viz.Snapshot],
                 speeds: dict[str, list[float]], speed_label: str,
                 options: dict[str, Any]) -> None:
        super().__init__(graphs)
        self.snapshots = snapshots
        self.speeds = speeds
        self.speed_label = speed_label
        self.options = options

    def to_html(self, path: str | Path, title: str = "Gradient flow during training",
                step_name: str = "step", notes: str = "") -> Path:
        """Write the self-contained interactive page (graph, slider over the snapshots, hover
        tooltips, speed curves) to `path`; see `tinygrad_nd.viz_html`.

        Parameters
        ----------
        path : str or Path
            The HTML file to write (replaced if it exists).
        title : str, default "Gradient flow during training"
            The page's heading.
        step_name : str, default "step"
            What a step is called on the slider and the curves' axis ("epoch" for full-batch
            training).
        notes : str, default ""
            A paragraph of plain text under the heading (the setup, say).
        """
        return viz_html.write_snapshot_page(
            path, self.snapshots, curves=self.speeds, curve_label=self.speed_label,
            title=title, step_name=step_name, notes=notes, **self.options)


def _speed_probe(model: Module) -> tuple[str, str, list[tuple[str, Module]]]:
    """Which gradient measures each weighted layer's speed: the bias's (Nielsen's ‖δˡ‖) when
    every such layer has one, else the weight's; with the curves' axis label."""
    layers = [(f"{name} ({type(m).__name__})", m) for name, m in weighted_layers(model)]
    if all(getattr(m, "bias", None) is not None for _, m in layers):
        return "bias", "‖∂C/∂b‖ (speed of learning)", layers
    return "weight", "‖∂C/∂W‖ per layer", layers


def snapshots(model: Module, loss_fn: Any, batches: Iterable[tuple[Any, Any]],
              optimizer: Any, steps: Sequence[int] = (0, 10, 100), out: str | Path | None = None,
              **options: Any) -> SnapshotRun:
    """Train `model` with `optimizer` on `batches` (cycled) and draw the gradient-coloured
    graph at each step in `steps`, on one shared colour scale (see
    `tinygrad_nd.viz.draw_snapshots`, which also takes `out` and drawing options).
    The result is the list of drawings; its `to_html(path)` writes the interactive page.

    Parameters
    ----------
    model : Module
        The model to train, in place.
    loss_fn : callable
        `loss_fn(output, target)` -> the scalar loss.
    batches : iterable of (input, target)
        The training batches, used in turn and cycled.
    optimizer : Optimizer
        Over `model.parameters()`.
    steps : sequence of int, default (0, 10, 100)
        The steps (0 = before the first update) to record and draw; training stops after the
        last.
    out : str or Path, optional
        Also write the drawings side by side (`.png`) or as an animation (`.gif`).
    **options
        Drawing options of `tinygrad_nd.viz.draw_graph` (`collapse`, `max_nodes`...).

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
    >>> {name: len(curve) for name, curve in graphs.speeds.items()}
    {'0 (Linear)': 3, '2 (Linear)': 3}
    """
    batches = list(batches)
    kind, speed_label, layers = _speed_probe(model)
    speeds: dict[str, list[float]] = {name: [] for name, _ in layers}
    recorded: list[viz.Snapshot] = []
    wanted = sorted({int(s) for s in steps})
    step = 0
    while wanted and step <= wanted[-1]:
        xb, yb = batches[step % len(batches)]
        drawn = step in wanted  # (tracing and recording cost time: only where drawn)
        with viz.trace(model) if drawn else contextlib.nullcontext():
            loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        with viz.record_grads() if drawn else contextlib.nullcontext():
            loss.backward()
        for name, m in layers:
            grad = getattr(m, kind).grad
            speeds[name].append(l2_norm(grad.data) if grad is not None else math.nan)
        if drawn:  # norms now, before the optimizer changes the weights
            recorded.append(viz.snapshot(step, loss, model))
        optimizer.step()
        step += 1
    graphs = viz.draw_snapshots(recorded, out, **options)
    return SnapshotRun(graphs, recorded, speeds, speed_label, options)


def vanishing_page(report: Report, x: Tensor, y: Tensor, cfg: Any, snapshots_count: int = 21
                   ) -> Path | None:
    """`report.html` of `tinygrad-nd vanishing`: its deepest net trained as in the report
    (same seed, full-batch gradient descent, `cfg.epochs` epochs), the graph recoloured at
    `snapshots_count` evenly spaced epochs; the report links to it.

    Parameters
    ----------
    report : Report
        The report being written; the page goes into its folder and a link into its text.
    x, y : Tensor
        The training images and their targets (one-hot, as `nielsen_cross_entropy` takes).
    cfg : VanishingConfig
        The run's settings (depths, width, eta, lmbda, epochs, seed).
    snapshots_count : int, default 21
        How many epochs are recorded (evenly spaced, first and last included).
    """
    from .vanishing import nielsen_optimizer  # (vanishing.py calls this function)

    if viz.renderer("svg") is None:  # the report's graph figure has warned already
        report.text(f"No interactive report.html: {viz.INSTALL_HINT}")
        return None
    sizes = [784] + [cfg.width] * max(cfg.depths) + [10]
    net = build_net(sizes, seed=cfg.seed)
    run = snapshots(net, nielsen_cross_entropy, [(x, y)],
                    nielsen_optimizer(net, cfg.eta, cfg.lmbda, len(x)),
                    steps=[round(s) for s in np.linspace(0, cfg.epochs - 1, snapshots_count)])
    path = run.to_html(
        report.folder / "report.html", step_name="epoch",
        title=f"Gradient flow in the {len(sizes) - 2}-hidden-layer sigmoid net {sizes}",
        notes=f"Seed {cfg.seed}, {cfg.epochs} epochs of full-batch gradient descent on "
              f"{len(x)} images (eta={cfg.eta}, lambda={cfg.lmbda}), as in report.md.")
    report.text(f"Interactive: [report.html](report.html) recolours the graph of the "
                f"{len(sizes) - 2}-hidden-layer net epoch by epoch (open it in a browser).")
    return path
