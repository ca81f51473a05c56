"""Gradient clipping."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor


def _with_grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    Returns the norm *before* clipping. Gradients are replaced, never changed in place.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> w = tg.ones(4, requires_grad=True); (w * 10).sum().backward()
    >>> nn.utils.clip_grad_norm_([w], 1.0), round(float((w.grad * w.grad).sum().sqrt().item()), 4)
    (20.0, 1.0)
    """
    params = _with_grads(parameters)
    if not params:
        return 0.0
    if norm_type == float("inf"):
        total = max(float(np.abs(p.grad.data).max()) for p in params)
    else:
        total = float(sum(float((np.abs(p.grad.data) ** norm_type).sum()) for p in params)
                      ** (1.0 / norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total gradient norm is {total}")
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for p in params:
            p.grad = Tensor._make((p.grad.data * scale).astype(p.grad.dtype), None)
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> float:
    """Clamp every gradient element into [-clip_value, clip_value]; returns the largest
    absolute gradient element before clipping."""
    params = _with_grads(parameters)
    largest = max((float(np.abs(p.grad.data).max()) for p in params if p.grad.size), default=0.0)
    for p in params:
        p.grad = Tensor._make(np.clip(p.grad.data, -clip_value, clip_value), None)
    return largest
