"""Monitors that record per-layer gradient and activation statistics through hooks.

`GradientMonitor` hooks every weighted layer's parameters: each backward pass adds one row
of `||dC/db||` (Nielsen's speed of learning `||delta^l||`), `||dC/dW||` and the
update-to-weight ratio of the step before it. `ActivationMonitor` hooks activation modules
and records saturation and pre-activation statistics on every forward pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..hooks import RemovableHandle
from ..nn.activation import ReLU, Sigmoid, Tanh
from ..nn.module import Module
from ..tensor import Tensor
from . import tensorboard
from .display import figure_html, html_table, pyplot, write_records
from .layers import activation_layers, mlp_layer_names, weighted_layers
from .norms import vector_norm

METRICS = ("bias_grad", "weight_grad", "update_ratio")


class _Monitor:
    """Shared plumbing: hook handles, removal, context-manager use."""

    def __init__(self) -> None:
        self.handles: list[RemovableHandle] = []

    def remove(self) -> None:
        """Remove every hook this monitor installed."""
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class GradientMonitor(_Monitor):
    """Record, per layer and per backward pass, gradient norms and update ratios.

    Parameters
    ----------
    model : Module
        The model to watch: hooks go on the weight and bias of every layer that has a
        `weight` parameter (Linear, Conv, ...).
    norm : {"l2", "l1"}
        The vector norm of the recorded gradients and weight changes.

    Attributes
    ----------
    layers : list of layer names, input side first: the chapter's `"hidden 1"` ..
        `"hidden k"`, `"output"` for a fully connected net (normalisation layers are
        `"hidden j BatchNorm1d"`), otherwise the module paths.
    paths : the module paths of the same layers (dotted, e.g. `"2"` or `"layers.0"`).
    reference : index of the layer speeds are compared with: the last hidden layer (the
        layer before the output layer), as in the chapter.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> from tinygrad_nd.diagnostics import GradientMonitor
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
    >>> monitor = GradientMonitor(net)
    >>> for _ in range(3):
    ...     net(tg.randn(5, 4)).sum().backward()
    >>> monitor.history["bias_grad"].shape      # (backward passes, layers)
    (3, 2)
    >>> monitor.layers, monitor.paths
    (['hidden 1', 'output'], ['0', '2'])
    """

    def __init__(self, model: Module, norm: str = "l2") -> None:
        super().__init__()
        if norm not in ("l1", "l2"):
            raise ValueError(f"GradientMonitor: norm must be 'l1' or 'l2', got {norm!r}")
        self.norm = norm
        found = weighted_layers(model)
        if not found:
            raise ValueError("GradientMonitor: the model has no layer with a weight parameter")
        self.paths = [name for name, _ in found]
        self.layers = mlp_layer_names(found) or list(self.paths)
        self.modules = [m for _, m in found]
        self.reference = _last_hidden(self.layers, self.paths)
        self._rows: list[dict[str, list[float]]] = []
        self._pending: dict[tuple[int, str], float] = {}
        self._last_weights = [m.weight.data.copy() for m in self.modules]
        for i, m in enumerate(self.modules):
            for kind in ("weight", "bias"):
                p = m._parameters.get(kind)
                if p is not None:
                    self.handles.append(p.register_hook(self._hook(i, kind)))

    def _hook(self, layer: int, kind: str):
        def record(g: Tensor) -> None:
            if (layer, kind) in self._pending:  # a new backward pass began
                self._flush()
            self._pending[(layer, kind)] = vector_norm(g.data, self.norm)
        return record

    def _flush(self) -> None:
        if not self._pending:
            return
        row: dict[str, list[float]] = {k: [] for k in METRICS}
        for i, m in enumerate(self.modules):
            row["bias_grad"].append(self._pending.get((i, "bias"), np.nan))
            row["weight_grad"].append(self._pending.get((i, "weight"), np.nan))
            w = m.weight.data
            change = vector_norm(w - self._last_weights[i], self.norm)
            row["update_ratio"].append(change / max(vector_norm(w, self.norm), 1e-30)
                                       if self._rows else np.nan)
            self._last_weights[i] = w.copy()
        self._rows.append(row)
        self._pending = {}

    @property
    def history(self) -> dict[str, np.ndarray]:
        """Each metric as an array of shape (backward passes, layers).

        `update_ratio` in row k is `||W_k - W_{k-1}|| / ||W_k||`, the relative change made
        by the optimizer step between backward passes k-1 and k (NaN in row 0).
        """
        self._flush()
        shape = (len(self._rows), len(self.layers))
        return {k: np.array([r[k] for r in self._rows]).reshape(shape) for k in METRICS}

    def speed_vs_last_hidden(self) -> np.ndarray:
        """`||dC/db||` of every layer over that of the last hidden layer (the chapter's
        comparison), per backward pass: shape (backward passes, layers)."""
        speed = self.history["bias_grad"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return speed / speed[:, self.reference:self.reference + 1]

    def summary(self) -> str:
        """A table of the latest values per layer, with each layer's speed relative to the
        last hidden layer's (the vanishing-gradient ratio)."""
        h = self.history
        if not len(h["bias_grad"]):
            return "GradientMonitor: no backward pass recorded yet"
        last, speed = h["bias_grad"][-1], self.speed_vs_last_hidden()[-1]
        width = max(14, *(len(name) + 2 for name in self.layers))
        lines = [f"{'layer':<{width}}{'||dC/db||':>12}{'||dC/dW||':>12}{'update/weight':>15}"
                 f"{'speed vs last hidden':>22}"]
        for i, name in enumerate(self.layers):
            lines.append(f"{name:<{width}}{last[i]:>12.4g}{h['weight_grad'][-1][i]:>12.4g}"
                         f"{h['update_ratio'][-1][i]:>15.3g}{speed[i]:>22.3g}")
        return "\n".join(lines)

    def records(self) -> list[dict[str, Any]]:
        """One record per (backward pass, layer): `step`, `layer` and every metric; the
        tidy form that spreadsheets and dataframes (`pandas.DataFrame(records)`) expect."""
        h = self.history
        return [{"step": step, "layer": name, **{m: float(h[m][step, i]) for m in METRICS}}
                for step in range(len(h["bias_grad"])) for i, name in enumerate(self.layers)]

    def save(self, path: str | Path) -> Path:
        """Write `records()` to a `.csv` or `.json` file.

        Parameters
        ----------
        path : str or Path
            The file; its suffix, `.csv` or `.json`, chooses the format.

        Examples
        --------
        >>> import tempfile, tinygrad_nd as tg
        >>> from tinygrad_nd import nn
        >>> from tinygrad_nd.diagnostics import GradientMonitor
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
        >>> monitor = GradientMonitor(net)
        >>> net(tg.randn(5, 4)).sum().backward()
        >>> path = monitor.save(tempfile.mkdtemp() + "/grads.csv")
        >>> open(path).readline().strip()
        'step,layer,bias_grad,weight_grad,update_ratio'
        """
        return write_records(self.records(), path)

    def to_tensorboard(self, logdir: str | Path, wall_time: float | None = None) -> Path:
        """Write the history to a TensorBoard event file in `logdir`; returns its path.

        One curve per metric and layer, tagged `metric/layer` (`bias_grad/hidden 1`), against
        the backward pass. Values that were never measured are left out: a layer without
        bias (its `bias_grad` is NaN throughout) and the first row of `update_ratio`;
        any other NaN (a gradient that became NaN) is written as it is.

        Parameters
        ----------
        logdir : str or Path
            The folder to give `tensorboard --logdir`; created if needed. Each call writes a
            new event file in it.
        wall_time : float, optional
            Seconds since the Unix epoch stamped on every event; now (`time.time()`) by
            default. Fix it to get the same file twice.

        Returns
        -------
        Path
            The event file written.

        Examples
        --------
        >>> import tempfile, tinygrad_nd as tg
        >>> from tinygrad_nd import nn
        >>> from tinygrad_nd.diagnostics import GradientMonitor, tensorboard
        >>> net = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
        >>> monitor = GradientMonitor(net)
        >>> net(tg.randn(5, 4)).sum().backward()
        >>> path = monitor.to_tensorboard(tempfile.mkdtemp())   # tensorboard --logdir <that>
        >>> sorted({s.tag for s in tensorboard.read(path)})
        ['bias_grad/hidden 1', 'bias_grad/output', 'weight_grad/hidden 1', 'weight_grad/output']
        """
        h = self.history
        scalars = []
        for metric in METRICS:
            for i, name in enumerate(self.layers):
                series = h[metric][:, i]
                first = 1 if metric == "update_ratio" else 0
                if np.isnan(series[first:]).all():
                    continue
                scalars += [(f"{metric}/{name}", step, float(series[step]))
                            for step in range(first, len(series))]
        return tensorboard.write(logdir, scalars, wall_time)

    def _repr_html_(self) -> str:
        """In Jupyter: the latest values per layer and the speed-of-learning curves."""
        h = self.history
        if not len(h["bias_grad"]):
            return "<p>GradientMonitor: no backward pass recorded yet</p>"
        last, speed = h["bias_grad"][-1], self.speed_vs_last_hidden()[-1]
        rows = [[name, last[i], h["weight_grad"][-1][i], h["update_ratio"][-1][i], speed[i]]
                for i, name in enumerate(self.layers)]
        table = html_table(["layer", "||dC/db||", "||dC/dW||", "update/weight",
                            "speed vs last hidden"], rows,
                           f"GradientMonitor after {len(h['bias_grad'])} backward passes")
        return table + figure_html(self.plot().figure)

    def plot(self, metric: str = "bias_grad", ax: Any = None, title: str | None = None) -> Any:
        """Plot `metric` per layer against backward passes, log scale; returns the axes.

        Parameters
        ----------
        metric : {"bias_grad", "weight_grad", "update_ratio"}
            What to plot (see `history`).
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure).
        title : str, optional
            The axes' title (default: the metric's name).
        """
        plt = pyplot()
        data = self.history[metric]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        for i, name in enumerate(self.layers):
            label = name if name != self.paths[i] else f"layer {name}"
            ax.plot(np.arange(1, len(data) + 1), data[:, i], label=label)
        ax.set_yscale("log")
        ax.set_xlabel("backward pass (training step)")
        ax.set_ylabel({"bias_grad": "||dC/db||  (speed of learning)",
                       "weight_grad": "||dC/dW||",
                       "update_ratio": "||dW|| / ||W|| per step"}[metric])
        ax.set_title(title or f"{metric} per layer")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        return ax


def _last_hidden(names: list[str], paths: list[str]) -> int:
    """Index of the last hidden layer: the last `"hidden j"` Linear of a fully connected
    net, otherwise the layer before the last (the only layer when there is one)."""
    if names != paths:
        hidden = [i for i, name in enumerate(names) if name.startswith("hidden ")
                  and name.count(" ") == 1]
        return hidden[-1] if hidden else len(names) - 1
    return max(len(names) - 2, 0)


def saturation(module: Module, output: np.ndarray, tol: float = 1e-2) -> float:
    """Fraction of saturated outputs: sigmoid within `tol` of 0 or 1, tanh of -1 or 1,
    ReLU units dead (zero) for every example of the batch.

    Parameters
    ----------
    module : Module
        The activation module (other kinds count as never saturated).
    output : array
        Its output on a batch.
    tol : float
        How close to a sigmoid's or tanh's bound counts as saturated.
    """
    if isinstance(module, Sigmoid):
        return float(((output < tol) | (output > 1 - tol)).mean())
    if isinstance(module, Tanh):
        return float((np.abs(output) > 1 - tol).mean())
    if isinstance(module, ReLU):
        return float((output.reshape(output.shape[0], -1) <= 0).all(axis=0).mean())
    return 0.0


class ActivationMonitor(_Monitor):
    """Record, per activation layer and forward pass, saturation and pre-activation stats.

    `history` maps layer name to a list of dicts with keys `saturated` (fraction),
    `pre_mean`, `pre_std` (of the activation's input z) and `out_mean`.

    Parameters
    ----------
    model : Module
        The model to watch: a forward hook goes on every activation module (Sigmoid, Tanh,
        ReLU ...).
    tol : float
        How close to a sigmoid's or tanh's bound counts as saturated (see `saturation`).
    """

    def __init__(self, model: Module, tol: float = 1e-2) -> None:
        super().__init__()
        self.tol = tol
        found = activation_layers(model)
        self.layers = [name for name, _ in found]
        self.history: dict[str, list[dict[str, float]]] = {name: [] for name in self.layers}
        for name, module in found:
            self.handles.append(module.register_forward_hook(self._hook(name)))

    def _hook(self, name: str):
        def record(module: Module, inputs: tuple[Any, ...], output: Tensor) -> None:
            z = inputs[0].data
            self.history[name].append({
                "saturated": saturation(module, output.data, self.tol),
                "pre_mean": float(z.mean()), "pre_std": float(z.std()),
                "out_mean": float(output.data.mean())})
        return record

    def latest(self) -> dict[str, dict[str, float]]:
        """The most recent record of each layer."""
        return {k: v[-1] for k, v in self.history.items() if v}

    def records(self) -> list[dict[str, Any]]:
        """One record per (forward pass, layer): `call`, `layer` and the statistics."""
        return [{"call": call, "layer": name, **stats}
                for name, rows in self.history.items() for call, stats in enumerate(rows)]

    def save(self, path: str | Path) -> Path:
        """Write `records()` to a `.csv` or `.json` file.

        Parameters
        ----------
        path : str or Path
            The file; its suffix, `.csv` or `.json`, chooses the format.
        """
        return write_records(self.records(), path)

    def to_tensorboard(self, logdir: str | Path, wall_time: float | None = None) -> Path:
        """Write the history to a TensorBoard event file in `logdir`; returns its path.

        One curve per statistic and layer, tagged `statistic/layer` (`saturated/1`,
        `pre_std/1` ...), against the forward pass.

        Parameters
        ----------
        logdir : str or Path
            The folder to give `tensorboard --logdir`; created if needed. Each call writes a
            new event file in it.
        wall_time : float, optional
            Seconds since the Unix epoch stamped on every event; now (`time.time()`) by
            default. Fix it to get the same file twice.

        Returns
        -------
        Path
            The event file written.
        """
        scalars = [(f"{stat}/{name}", call, value)
                   for name, rows in self.history.items()
                   for call, stats in enumerate(rows) for stat, value in stats.items()]
        return tensorboard.write(logdir, scalars, wall_time)

    def _repr_html_(self) -> str:
        """In Jupyter: the latest statistics of each activation layer."""
        latest = self.latest()
        rows = [[name, s["saturated"], s["pre_mean"], s["pre_std"], s["out_mean"]]
                for name, s in latest.items()]
        return html_table(["layer", "saturated", "mean z", "std z", "mean output"], rows,
                          "ActivationMonitor, latest forward pass")
