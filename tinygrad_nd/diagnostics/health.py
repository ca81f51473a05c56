"""`grad_health`: an anomaly mode that checks magnitudes, not only NaNs, and names the
layer and op where a gradient first goes wrong."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import autograd
from ..nn.module import Module
from ..tensor import Tensor
from ..tracing import module_label, trace_modules
from .norms import l2_norm


class GradientHealthWarning(RuntimeWarning):
    """A gradient vanished, exploded or became NaN/inf during backward."""


class grad_health:
    """Check every gradient the engine computes while the context is active.

    Parameters
    ----------
    model : Module, optional
        Ops run inside its modules are reported with the module's dotted name.
    vanish, explode : float
        A gradient whose L2 norm is below `vanish` (and not exactly zero) or above
        `explode` is reported.
    nan : bool
        Report NaN/inf gradients, and the first op whose *forward* output turns NaN/inf
        from finite inputs (where a NaN loss usually starts).
    action : {"warn", "raise"}
        Emit a `GradientHealthWarning` (once per op and problem) or raise
        `FloatingPointError` at the first problem.

    Examples
    --------
    >>> import warnings, tinygrad_nd as tg
    >>> from tinygrad_nd.diagnostics import grad_health
    >>> x = tg.Tensor([0.0], requires_grad=True)
    >>> with warnings.catch_warnings(record=True) as caught, grad_health():
    ...     warnings.simplefilter("always")
    ...     x.sqrt().sum().backward()
    >>> any("computed by op 'sqrt'" in str(w.message) for w in caught)
    True
    """

    def __init__(self, model: Module | None = None, vanish: float = 1e-6,
                 explode: float = 1e3, nan: bool = True, action: str = "warn") -> None:
        if action not in ("warn", "raise"):
            raise ValueError(f"grad_health: action must be 'warn' or 'raise', got {action!r}")
        self.model, self.vanish, self.explode, self.nan, self.action = (model, vanish, explode,
                                                                         nan, action)
        self.reports: list[str] = []
        self._tracer = trace_modules(model) if model is not None else None
        self._seen: set[tuple[str, str]] = set()

    def __enter__(self) -> grad_health:
        # Observers are per thread: raising here never aborts another thread's backward.
        self._observing = autograd.observe(
            forward=self._observe_forward if self.nan else None, backward=self._observe)
        self._observing.__enter__()
        if self._tracer is not None:
            self._tracer.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._observing.__exit__()
        if self._tracer is not None:
            self._tracer.__exit__()

    def _observe_forward(self, function: Any, inputs: tuple[Tensor, ...], out: Any) -> None:
        """Name the first op whose output is NaN/inf although its inputs are finite."""
        if out.dtype.kind not in "fc" or np.isfinite(out).all():
            return
        if all(np.isfinite(t.data).all() for t in inputs if t.dtype.kind in "fc"):
            layer = self._tracer.current if self._tracer is not None else None
            where = f"op '{function.op_name}'" + (f" in layer {layer}" if layer else "")
            shapes = ", ".join(str(t.shape) for t in inputs)
            self._report("forward", f"non-finite values (NaN/inf) first produced by {where} "
                         f"in the forward pass, from finite inputs of shapes {shapes}",
                         function.op_name)

    def _observe(self, ctx: autograd.Context, g: np.ndarray,
                 grads: tuple[np.ndarray | None, ...]) -> None:
        op = ctx.function.op_name
        where = f"op '{op}'" + (f" in layer {module_label(ctx)}" if module_label(ctx)
                                else "")
        for i, data in enumerate(grads):
            if data is None or not ctx.needs_input_grad[i]:
                continue
            if not np.isfinite(data).all():
                if self.nan:
                    self._report("non-finite", f"non-finite gradient (NaN/inf) computed by {where} "
                                 f"for its input {i} (shape {data.shape}); the upstream gradient "
                                 f"was {'finite' if np.isfinite(g).all() else 'non-finite'}",
                                 op)
                continue
            norm = l2_norm(data)
            if norm > self.explode:
                self._report("explode", f"exploding gradient: norm {norm:.3g} > {self.explode:g} "
                             f"from {where} (input {i}, shape {data.shape})", op)
            elif 0 < norm < self.vanish:
                self._report("vanish", f"vanishing gradient: norm {norm:.3g} < {self.vanish:g} "
                             f"from {where} (input {i}, shape {data.shape})", op)

    def _report(self, kind: str, message: str, op: str) -> None:
        self.reports.append(message)
        if self.action == "raise":
            raise FloatingPointError("grad_health: " + message)
        if (op, kind) not in self._seen:
            self._seen.add((op, kind))
            warnings.warn("grad_health: " + message, GradientHealthWarning, stacklevel=2)
