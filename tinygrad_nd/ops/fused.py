"""Fused ops: a linear layer, softmax cross-entropy and the two binary cross-entropies.

Linear and cross-entropy replace a handful of primitive ops (transpose, matmul, add;
log-softmax, indexing, mean) by one graph node, which matters for small nets where per-op
overhead dominates. The binary cross-entropies are single ops for exactness: as composites
of log, clip and arithmetic their backwards computed 0/0 (probabilities rounded to 0 or 1)
or dropped the kinks of relu/abs at a logit of 0. All are checked against their references,
central differences and PyTorch by the generic tests like any op.
"""

from __future__ import annotations

import operator

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ._util import check_class_indices, mm, quiet, reduce_keepdims
from .activation import Sigmoid, Softmax, Softplus
from .blocked_gemm import SMALL_GEMM_WORK


def _linear_reference(x, w, b):
    return x @ w.T + b


def _cross_entropy_reference(x, target):
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(x)), target].mean()


def _inverse_count(x: np.ndarray) -> np.floating:
    """1 / N for a batch of N rows, as x's dtype; NaN for an empty batch (PyTorch's mean over
    nothing, with an empty gradient)."""
    return x.dtype.type(1.0 / len(x) if len(x) else np.nan)


def check_linear_shapes(x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> None:
    """Raise a clear error unless an input of `x_shape` fits an (out, in) weight.

    Parameters
    ----------
    x_shape : tuple of int
        The input's shape (..., in).
    w_shape : tuple of int
        The weight's shape, expected (out, in).
    """
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
        # Its three products take the same multiply-adds: only big ones go through `mm`'s
        # blocks; the small products of small nets stay one plain call each.
        ctx.product = mm if x.size * w.shape[0] > SMALL_GEMM_WORK else operator.matmul
        out = ctx.product(x, w.T)
        out += b
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        rows = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        flat_x = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        return (ctx.product(g, w) if need_x else None,
                ctx.product(rows.T, flat_x) if need_w else None,
                rows.sum(axis=0) if need_b else None)


@register_op("cross_entropy", nin=2, shape_rule="cross_entropy",
             differentiable=(True, False), reference=_cross_entropy_reference)
class CrossEntropy(Function):
    """L = mean_n -log softmax(x_n)[t_n];  dL/dx = (softmax(x) - onehot(t)) / N"""

    @staticmethod
    def forward(ctx, x, target):
        # (checked here, not only by the caller: a replayed tg.jit step runs the forward alone)
        check_class_indices(target, x.shape[1], "cross_entropy")
        shifted = x - reduce_keepdims(np.maximum, x, 1)
        exp = np.exp(shifted)
        total = reduce_keepdims(np.add, exp, 1)
        picked = shifted[np.arange(len(x)), target]
        exp /= total  # the probabilities, kept for the backward
        ctx.target, ctx.probs = target, exp
        ctx.save_for_backward(x)
        return (np.log(total).sum() - picked.sum()) * _inverse_count(x)

    @staticmethod
    def backward(ctx, g):
        # Softmax recomputed from x (not the forward's probabilities) so it differentiates again.
        (x,) = ctx.saved_tensors
        onehot = np.zeros(x.shape, dtype=x.dtype)
        onehot[np.arange(len(x)), ctx.target] = 1
        return (Softmax.apply(x, axis=1) - onehot) * (g * _inverse_count(x)), None

    @staticmethod
    def backward_arrays(ctx, g):
        """First-order passes reuse the probabilities the forward computed anyway (the
        general backward recomputes the softmax, which only a recorded pass needs).

        Parameters
        ----------
        ctx : Context
            The op's context: the saved logits, the `target` indices and the forward's `probs`.
        g : ndarray, 0-d
            The upstream gradient of the (mean) loss.
        """
        (x,) = ctx.saved_tensors
        probs = ctx.probs.copy()  # (kept intact for a retain_graph=True second pass)
        probs[np.arange(len(x)), ctx.target] -= 1
        probs *= g * _inverse_count(x)
        return probs, None


# --------------------------------------------------------------------------------------------
# Binary cross-entropy, on probabilities and on logits (per element; the caller reduces)
# --------------------------------------------------------------------------------------------
LOG_FLOOR = -100.0  # PyTorch clamps both logs here, so p = 0 or 1 gives a finite loss
BCE_EPS = 1e-12  # PyTorch's floor of p (1 - p) in the backward: finite where p rounds to 0 or 1


def _clamped_logs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max(log p, -100) and max(log(1 - p), -100)."""
    with np.errstate(divide="ignore"):  # log 0 = -inf, clamped right below
        return np.maximum(np.log(p), LOG_FLOOR), np.maximum(np.log1p(-p), LOG_FLOOR)


def _bce_reference(p, t):
    return -(t * np.maximum(np.log(p), LOG_FLOOR) + (1 - t) * np.maximum(np.log(1 - p), LOG_FLOOR))


@register_op("binary_cross_entropy", nin=2, domain=((0.02, 0.98), (0.0, 1.0)),
             reference=_bce_reference)
class BinaryCrossEntropy(Function):
    """l = -(t log p + (1-t) log(1-p)), logs clamped at -100;
    dl/dp = (p - t) / max(p (1-p), 1e-12),  dl/dt = log(1-p) - log p (clamped logs)"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf or nan targets: nan, silent in PyTorch)
    def forward(ctx, p, t):
        # Two passes (min, max), as PyTorch checks too: a probability outside [0, 1] (or NaN)
        # would otherwise come out as a NaN loss far from its cause.
        if p.size and not (p.min() >= 0 and p.max() <= 1):
            raise ValueError(f"binary_cross_entropy: input probabilities must lie in [0, 1], "
                             f"got values from {p.min()} to {p.max()} (shape {p.shape})")
        log_p, log_q = _clamped_logs(p)
        ctx.save_for_backward(p, t)
        return (t - 1) * log_q - t * log_p

    @staticmethod
    def backward(ctx, g):
        p, t = ctx.saved_tensors
        need_p, need_t = ctx.needs_input_grad
        gp = gt = None
        if need_p:
            # The exact derivative is (p - t) / (p (1 - p)); the floor keeps it finite where
            # p rounded to 0 or 1 (a sigmoid past |x| ~ 17 in float32), where it was 0/0.
            gp = g * (p - t) / np.maximum(p * (1 - p), BCE_EPS)
        if need_t:
            gt = g * (np.maximum(np.log(1 - p), LOG_FLOOR) - np.maximum(np.log(p), LOG_FLOOR))
        return gp, gt


def _bce_logits_reference(x, t, pos_weight=None):
    w = 1.0 if pos_weight is None else pos_weight
    return (1 - t) * x + (1 + (w - 1) * t) * np.logaddexp(0, -x)


@register_op("binary_cross_entropy_with_logits", nin=2, domain=((-3.0, 3.0), (0.0, 1.0)),
             params={"pos_weight": (None, 2.0)}, reference=_bce_logits_reference)
class BinaryCrossEntropyWithLogits(Function):
    """l = (1-t) x + c softplus(-x), c = 1 + (w-1) t (w: pos_weight, 1 if not given);
    dl/dx = c sigmoid(x) - w t,  dl/dt = (w-1) softplus(-x) - x"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf - inf for infinite logits or targets: nan, as in PyTorch)
    def forward(ctx, x, t, pos_weight=None):
        # max(x, 0) - x t + log1p(e**-|x|): e**-|x| is in (0, 1], so nothing overflows, and
        # log1p keeps the loss's tail (2.06e-9 at x = 20, t = 1) that log(1 + .) rounds to 0.
        log1p_e = np.log1p(np.exp(-np.abs(x)))
        loss = np.maximum(x, 0) - x * t + log1p_e
        if pos_weight is not None:
            w = np.asarray(pos_weight, dtype=loss.dtype)
            ctx.pos_weight = w
            loss = loss + (w - 1) * t * (np.maximum(-x, 0) + log1p_e)
        else:
            ctx.pos_weight = None
        ctx.save_for_backward(x, t)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        w = ctx.pos_weight  # an array constant, or None
        need_x, need_t = ctx.needs_input_grad
        gx = gt = None
        if need_x:
            s = Sigmoid.apply(x)
            gx = g * (s - t) if w is None else g * ((1 + (w - 1) * t) * s - w * t)
        if need_t:
            gt = -(g * x) if w is None else g * ((w - 1) * Softplus.apply(-x) - x)
        return gx, gt
