"""Fused ops for the two hottest spots of training: a linear layer and softmax cross-entropy.

Each replaces a handful of primitive ops (transpose, matmul, add; log-softmax, indexing,
mean) by one graph node, which matters for small nets where per-op overhead dominates.
Both are checked against their composite definitions by the generic tests like any op.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ._util import reduce_keepdims
from .activation import Softmax


def _linear_reference(x, w, b):
    return x @ w.T + b


def _cross_entropy_reference(x, target):
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(x)), target].mean()


def check_linear_shapes(x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> None:
    """Raise a clear error unless an input of ``x_shape`` fits an (out, in) weight."""
    if len(w_shape) != 2:
        raise ValueError(f"linear: expected an (out, in) weight, got shape {w_shape}")
    if not x_shape or x_shape[-1] != w_shape[1]:
        features = x_shape[-1] if x_shape else 0
        raise ValueError(f"linear: input with {features} features (shape {x_shape}) does not "
                         f"match weight of shape {w_shape} (expects {w_shape[1]})")


@register_op("linear", nin=3, shape_rule="linear", reference=_linear_reference)
class Linear(Function):
    """y = x W^T + b;  dy/dx = g W,  dy/dW = g^T x (summed over batch axes),  dy/db = sum g"""

    @staticmethod
    def forward(ctx, x, w, b):
        check_linear_shapes(x.shape, w.shape)
        if b.shape != (w.shape[0],):
            raise ValueError(f"linear: bias of shape {b.shape} does not match weight of shape "
                             f"{w.shape} (expects ({w.shape[0]},))")
        ctx.save_for_backward(x, w)
        out = np.matmul(x, w.T)
        out += b
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        rows = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        flat_x = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        return (g @ w if need_x else None,
                rows.T @ flat_x if need_w else None,
                rows.sum(axis=0) if need_b else None)


@register_op("cross_entropy", nin=2, shape_rule="cross_entropy",
             differentiable=(True, False), reference=_cross_entropy_reference)
class CrossEntropy(Function):
    """L = mean_n -log softmax(x_n)[t_n];  dL/dx = (softmax(x) - onehot(t)) / N"""

    @staticmethod
    def forward(ctx, x, target):
        shifted = x - reduce_keepdims(np.maximum, x, 1)
        exp = np.exp(shifted)
        total = reduce_keepdims(np.add, exp, 1)
        picked = shifted[np.arange(len(x)), target]
        exp /= total  # the probabilities, kept for the backward
        ctx.target, ctx.probs = target, exp
        ctx.save_for_backward(x)
        return (np.log(total).sum() - picked.sum()) * x.dtype.type(1.0 / len(x))

    @staticmethod
    def backward(ctx, g):
        # Softmax recomputed from x (not the forward's probabilities) so it differentiates again.
        (x,) = ctx.saved_tensors
        onehot = np.zeros(x.shape, dtype=x.dtype)
        onehot[np.arange(len(x)), ctx.target] = 1
        return (Softmax.apply(x, axis=1) - onehot) * (g * (1.0 / len(x))), None

    @staticmethod
    def backward_arrays(ctx, g):
        """First-order passes reuse the probabilities the forward computed anyway (the
        general backward recomputes the softmax, which only a recorded pass needs)."""
        (x,) = ctx.saved_tensors
        probs = ctx.probs.copy()  # (kept intact for a retain_graph=True second pass)
        probs[np.arange(len(x)), ctx.target] -= 1
        probs *= g * (1.0 / len(x))
        return probs, None
