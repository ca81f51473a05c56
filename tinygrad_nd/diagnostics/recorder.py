"""`GradientRecorder`: every layer's activations and gradients in one tidy table."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from .monitors import _Monitor
from .norms import l2_norm


class GradientRecorder(_Monitor):
    """Capture, for every leaf module call, its output statistics and the gradient that
    reaches that output, without any manual hook plumbing.

    Parameters
    ----------
    model : Module
        The model whose leaf modules (those without children) are recorded.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> from tinygrad_nd.diagnostics import GradientRecorder
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    >>> with GradientRecorder(net) as rec:
    ...     net(tg.randn(8, 4)).sum().backward()
    >>> [(r["layer"], r["kind"]) for r in rec.rows]
    [('0', 'Linear'), ('1', 'Tanh'), ('2', 'Linear')]
    """

    def __init__(self, model: Module) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.call = 0
        for name, module in model.named_modules():
            if not any(True for _ in module.children()):
                self.handles.append(module.register_forward_hook(self._hook(name or "model")))

    def _hook(self, name: str):
        def record(module: Module, inputs: tuple[Any, ...], output: Any) -> None:
            if not isinstance(output, Tensor):
                return
            row = {"call": self.call, "layer": name, "kind": type(module).__name__,
                   "shape": output.shape, "act_mean": float(output.data.mean()),
                   "act_std": float(output.data.std()), "grad_norm": float("nan"),
                   "grad_mean_abs": float("nan")}
            self.call += 1
            self.rows.append(row)
            if output.requires_grad:
                def capture(g: Tensor) -> None:
                    row["grad_norm"] = l2_norm(g.data)
                    row["grad_mean_abs"] = float(np.abs(g.data).mean())
                output.register_hook(capture)
        return record

    def to_markdown(self) -> str:
        """The table as Markdown."""
        head = ("| call | layer | kind | shape | act mean | act std | ||grad|| |\n"
                "|---|---|---|---|---|---|---|")
        lines = [f"| {r['call']} | {r['layer']} | {r['kind']} | {r['shape']} | "
                 f"{r['act_mean']:.4g} | {r['act_std']:.4g} | {r['grad_norm']:.4g} |"
                 for r in self.rows]
        return "\n".join([head, *lines])
