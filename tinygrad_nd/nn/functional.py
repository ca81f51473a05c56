"""Functional forms of layers and losses, built from registered ops (checked end to end).

Also re-exports the tensor-level functions (``conv2d``, ``max_pool2d``, ``softmax`` ...), so
``import tinygrad_nd.nn.functional as F`` reads like PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import factories
from ..functional import (  # noqa: F401
    _real_in,
    avg_pool2d,
    cat,
    conv2d,
    log_softmax,
    max_pool2d,
    softmax,
    stack,
    where,
)
from ..ops.fused import check_linear_shapes
from ..registry import apply
from ..reshaping import pad  # noqa: F401  (p14-select: F.pad with PyTorch's order and modes)
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _as_target(target: Any) -> Tensor:
    return target if isinstance(target, Tensor) else Tensor(target)


def _check_same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{op}: input shape {input.shape} and target shape {target.shape} "
                         "must match")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with a PyTorch-layout (out, in) weight."""
    if bias is not None:
        return apply("linear", x, weight, bias)  # checks the shapes itself
    check_linear_shapes(x.shape, weight.shape)
    return x @ weight.T


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    """Logistic function."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return x.tanh()


def mse_loss(input: Tensor, target: Any, reduction: str = "mean", half: bool = False) -> Tensor:
    """Quadratic loss (input - target)**2, reduced over all elements.

    ``half=True`` multiplies by 1/2, the convention of Nielsen's quadratic cost
    ``C = 1/(2n) sum_x ||y(x) - a||**2`` (which, unlike ``reduction="mean"``, sums over the
    output units; use ``reduction="sum"`` divided by the batch size for exactly that).
    """
    target = _as_target(target)
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    loss = _reduce(diff * diff, reduction, "mse_loss")
    return loss * 0.5 if half else loss


def _float_target(target: Any, input: Tensor, op: str) -> Tensor:
    """The target as a Tensor of the input's float dtype, of the input's shape."""
    target = _as_target(target)
    _check_same_shape(input, target, op)
    return target if target.dtype == input.dtype else target.astype(input.dtype)


def _constant_weight(weight: Any, input: Tensor, op: str, name: str) -> np.ndarray:
    """A weight that broadcasts to the input's shape, as an array of its dtype."""
    if isinstance(weight, Tensor):
        if weight.requires_grad:
            raise ValueError(f"{op}: {name} is not differentiable here (as in PyTorch); pass a "
                             "tensor without requires_grad (e.g. detach() it)")
        weight = weight.data
    weight = np.asarray(weight, dtype=input.dtype)
    try:
        fits = np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {weight.shape} does not broadcast to the input "
                         f"shape {input.shape}")
    return weight


def _weighted(loss: Tensor, weight: Any, op: str) -> Tensor:
    """The per-element loss times a rescaling weight (broadcast to the loss's shape)."""
    if weight is None:
        return loss
    if isinstance(weight, Tensor) and weight.requires_grad:
        w = weight
        if np.broadcast_shapes(w.shape, loss.shape) != loss.shape:
            raise ValueError(f"{op}: weight of shape {w.shape} does not broadcast to the input "
                             f"shape {loss.shape}")
    else:
        w = Tensor._make(_constant_weight(weight, loss, op, "weight"), None)
    return loss * w


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean", *,
                         weight: Any = None) -> Tensor:
    """Binary cross-entropy -(y log p + (1 - y) log(1 - p)) of probabilities p.

    As in PyTorch, the logs are clamped at -100 (p = 0 or 1 gives a finite loss) and the
    gradient is (p - y) / max(p (1 - p), 1e-12), finite even where a float32 sigmoid has
    rounded to exactly 0 or 1. Prefer :func:`binary_cross_entropy_with_logits` on logits: it
    is exact for every logit. ``weight`` rescales each element's loss (it broadcasts to the
    input's shape). Probabilities outside [0, 1] raise a ValueError.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> p = tg.Tensor([1.0], requires_grad=True)   # a sigmoid that rounded to 1
    >>> F.binary_cross_entropy(p, [1.0]).backward()
    >>> float(p.grad.item())
    0.0
    """
    target = _float_target(target, input, "binary_cross_entropy")
    loss = _weighted(apply("binary_cross_entropy", input, target), weight, "binary_cross_entropy")
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target: Any, reduction: str = "mean", *,
                                     weight: Any = None, pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy of sigmoid(z) for logits z, exact for every z (one fused op).

    The loss is ``max(z, 0) - z y + log1p(e**-|z|)``, and its gradient ``sigmoid(z) - y``
    exactly (0.5 - y at z = 0, where a zero-initialised output layer starts). ``weight``
    rescales each element's loss; ``pos_weight`` (broadcast over the input, usually one value
    per class) weighs the positive term, as in PyTorch; it gets no gradient.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> z = tg.Tensor([0.0], requires_grad=True)
    >>> F.binary_cross_entropy_with_logits(z, [1.0]).backward()
    >>> float(z.grad.item())
    -0.5
    """
    op = "binary_cross_entropy_with_logits"
    target = _float_target(target, input, op)
    if pos_weight is not None:
        pos_weight = _constant_weight(pos_weight, input, op, "pos_weight")
    loss = _weighted(apply(op, input, target, pos_weight=pos_weight), weight, op)
    return _reduce(loss, reduction, op)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _class_indices(target: Any, n: int, classes: int, op: str) -> np.ndarray:
    idx = target.data if isinstance(target, Tensor) else np.asarray(target)
    if idx.dtype.kind not in "iu":
        raise TypeError(_not_indices(op, idx.dtype))
    if idx.shape != (n,):
        raise ValueError(f"{op}: expected {n} class indices (shape ({n},)), got shape "
                         f"{idx.shape}")
    # One pass: viewed as unsigned, negative indices become huge, so the maximum alone finds
    # an index out of range at either end (this check runs on every training step).
    unsigned = idx if idx.dtype.kind == "u" else idx.view(_UNSIGNED[idx.dtype.itemsize])
    if n and unsigned.max() >= classes:
        bad = idx[(idx < 0) | (idx >= classes)][0]
        raise ValueError(f"{op}: target class {int(bad)} is out of range for {classes} classes")
    return idx


def _not_indices(op: str, dtype: np.dtype) -> str:
    hint = "; for class probabilities pass an (N, C) float array" if dtype.kind == "f" else ""
    return f"{op}: class-index targets must be integers, got {dtype}{hint}"


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under (N, C) log-probabilities."""
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: expected (N, C) log-probabilities, got shape "
                         f"{log_probs.shape}")
    n, classes = log_probs.shape
    idx = _class_indices(target, n, classes, "nll_loss")
    return _reduce(-log_probs[np.arange(n), idx], reduction, "nll_loss")


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of (N, C) logits, stable for any logit size.

    ``target`` is either N class indices (integers) or an (N, C) array of class
    probabilities / one-hot rows (floats).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> round(F.cross_entropy(tg.zeros(2, 4), [1, 3]).item(), 4)   # log 4
    1.3863
    """
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: expected (N, C) logits, got shape {logits.shape}")
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target_array.dtype.kind == "f":
        if target_array.ndim != 2:  # (N,) floats are mistyped labels, not probabilities
            raise TypeError(_not_indices("cross_entropy", target_array.dtype))
        probs = _as_target(target)
        _check_same_shape(logits, probs, "cross_entropy")
        return _reduce(-(logits.log_softmax(axis=1) * probs).sum(axis=1), reduction,
                       "cross_entropy")
    if reduction == "mean":  # the common case, as one fused op
        idx = _class_indices(target_array, logits.shape[0], logits.shape[1], "cross_entropy")
        return apply("cross_entropy", logits, Tensor._make(idx, None))
    return nll_loss(logits.log_softmax(axis=1), target_array, reduction)


def check_probability(p: Any, op: str) -> float:
    """A drop probability: a real number in [0, 1) (1 would divide by zero)."""
    return _real_in(p, "p", op, 0.0, 1.0)


def check_batch_norm_args(momentum: Any, eps: Any, op: str) -> None:
    """``momentum`` in [0, 1] and ``eps`` > 0 (eps = 0 divides by zero on a constant channel)."""
    _real_in(momentum, "momentum", op, 0.0, 1.0, closed=True)
    if _real_in(eps, "eps", op, 0.0) == 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: factories.Generator | None = None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted
    dropout), so evaluation needs no rescaling."""
    check_probability(p, "dropout")
    if not training or p == 0.0:
        return x
    keep = factories.rng_of(generator).random(x.shape) >= p
    return x * Tensor._make((keep / (1.0 - p)).astype(x.dtype), None)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = True,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over every axis but the channel axis 1, as BatchNorm1d/2d do.

    In training, batch statistics are used and the running ones updated in place
    (unbiased variance, PyTorch's convention); in evaluation, the running ones are used.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected (N, C, ...) input, got shape {x.shape}")
    check_batch_norm_args(momentum, eps, "batch_norm")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"batch_norm: need more than one value per channel in training, "
                             f"got input of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            from ..autograd import no_grad

            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.data.reshape(-1), alpha=momentum)
                unbiased = var.data.reshape(-1) * count / (count - 1)
                running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running statistics")
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# ---- part "math" of issue #14: activations, as torch.nn.functional.<name> -----------------
def _dim(dim: Any, op: str) -> int:
    """A dimension argument: an int (not a bool), else a TypeError naming ``op``."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, (bool, np.bool_)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    return int(dim)


def check_gelu_approximate(approximate: Any, op: str = "gelu") -> str:
    """``approximate`` is "none" (exact, erf) or "tanh", as in PyTorch."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return str(approximate)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x Phi(x): exact (erf) by default, or the tanh approximation.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> f"{F.gelu(tg.Tensor([1.0])).item():.4f}", f"{F.gelu(tg.Tensor([1.0]), 'tanh').item():.4f}"
    ('0.8413', '0.8412')
    """
    return x.gelu(check_gelu_approximate(approximate))


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.relu6(tg.Tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return x.relu6()


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clamped into [min_val, max_val] (gradient 0 at both kinks)."""
    return x.hardtanh(min_val, max_val)


def hardsigmoid(x: Tensor) -> Tensor:
    """min(max(x + 3, 0), 6) / 6."""
    return x.hardsigmoid()


def hardswish(x: Tensor) -> Tensor:
    """x * hardsigmoid(x)."""
    return x.hardswish()


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (swish).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.silu(tg.Tensor([0.0, -1e4, 1e4])).tolist()
    [0.0, -0.0, 10000.0]
    """
    return x.silu()


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return x.mish()


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return x.softsign()


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, ``alpha * (e**x - 1)`` otherwise."""
    return x.elu(alpha)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, ``alpha * (e**(x/alpha) - 1)`` otherwise; alpha must not be 0."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return x.celu(alpha)


def selu(x: Tensor) -> Tensor:
    """Scaled ELU with the self-normalising constants (Klambauer et al., 2017)."""
    return x.selu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return x.leaky_relu(negative_slope)


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """log(1 + e**(beta x)) / beta, without overflow; beta must not be 0."""
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (it divides the result)")
    return x.softplus(beta)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for every finite x.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.logsigmoid(tg.Tensor([-1e4, 1e4])).tolist()
    [-10000.0, -0.0]
    """
    return x.logsigmoid()


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else ``value``."""
    return x.threshold(threshold, value)


def softmin(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(-x) along ``dim``."""
    return x.softmin(_dim(dim, "softmin"))


def glu(x: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` for the halves a, b of x along ``dim``.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.glu(tg.Tensor([[2.0, 4.0, 0.0, 0.0]])).tolist()
    [[1.0, 2.0]]
    """
    dim = _dim(dim, "glu")
    if x.ndim == 0:
        raise ValueError("glu: expected a tensor with at least one dimension, got a 0-d one")
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor of shape {x.shape}")
    size = x.shape[dim]
    if size % 2:
        raise ValueError(f"glu: halving dimension {dim} must have an even size, got {size} "
                         f"(shape {x.shape})")
    lead = (slice(None),) * (dim % x.ndim)
    return x[lead + (slice(0, size // 2),)] * x[lead + (slice(size // 2, size),)].sigmoid()
