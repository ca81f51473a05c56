"""Functional forms of layers and losses, built from registered ops (checked end to end).

Owns the convolution and pooling family and its argument checks (`tg.conv2d` is this
`conv2d`), and re-exports the tensor-level functions (`softmax`, `cat` ...), so
`import tinygrad_nd.nn.functional as F` reads like PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import factories
from ..functional import (  # noqa: F401
    _real_in,
    cat,
    log_softmax,
    softmax,
    stack,
    where,
)
from ..ops._util import check_class_indices
from ..ops.fused import check_linear_shapes
from ..registry import apply
from ..reshaping import pad  # noqa: F401  (p14-select: F.pad with PyTorch's order and modes)
from ..side_effects import dropout_mask, update_running_stats
from ..tensor import Tensor
from .conv_functional import (  # noqa: F401
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    convolution,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from .sampling import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    interpolate,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)

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
    """`x @ weight.T + bias` with a PyTorch-layout (out, in) weight.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
        The input.
    weight : Tensor, shape (out_features, in_features)
        The weight, PyTorch's layout.
    bias : Tensor, shape (out_features,), optional
        Added to every output row; none by default.
    """
    if bias is not None:
        return apply("linear", x, weight, bias)  # checks the shapes itself
    check_linear_shapes(x.shape, weight.shape)
    return x @ weight.T


def relu(x: Tensor) -> Tensor:
    """max(x, 0).

    Parameters
    ----------
    x : Tensor
        The input, any shape (elementwise).
    """
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    """Logistic function.

    Parameters
    ----------
    x : Tensor
        The input, any shape (elementwise).
    """
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Parameters
    ----------
    x : Tensor
        The input, any shape (elementwise).
    """
    return x.tanh()


def mse_loss(input: Tensor, target: Any, reduction: str = "mean", half: bool = False) -> Tensor:
    """Quadratic loss (input - target)**2, reduced over all elements.

    `half=True` multiplies by 1/2, the convention of Nielsen's quadratic cost
    `C = 1/(2n) sum_x ||y(x) - a||**2` (which, unlike `reduction="mean"`, sums over the
    output units; use `reduction="sum"` divided by the batch size for exactly that).

    Parameters
    ----------
    input : Tensor
        The predictions, any shape.
    target : Tensor or array-like
        The targets, of the input's shape (cast to its float dtype).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).
    half : bool, default False
        Multiply the result by 1/2 (Nielsen's quadratic cost convention).
    """
    target = _as_target(target)
    _check_same_shape(input, target, "mse_loss")
    diff = input - target
    loss = _reduce(diff * diff, reduction, "mse_loss")
    return loss * 0.5 if half else loss


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Absolute error `|input - target|` (gradient 0 where they are equal, as PyTorch).

    Parameters
    ----------
    input : Tensor
        The predictions, any shape.
    target : Tensor or array-like
        The targets, of the input's shape (cast to its float dtype).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.l1_loss(tg.Tensor([1.0, -2.0]), [0.0, 0.0]).item()
    1.5
    """
    target = _float_target(target, input, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def _quadratic_then_linear(input: Tensor, target: Any, width: float, op: str) -> Tensor:
    """`0.5 d**2` for `|d| < width`, else `width * (|d| - 0.5 width)`: the Huber loss
    (smooth L1 is it divided by `width`); value and slope agree at `|d| = width`."""
    diff = input - _float_target(target, input, op)
    size = diff.abs()
    return where(size < width, diff * diff * 0.5, (size - 0.5 * width) * width)


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """`0.5 d**2 / beta` for `|d| < beta`, else `|d| - 0.5 beta` (`beta = 0`: L1).

    Parameters
    ----------
    input : Tensor
        The predictions, any shape.
    target : Tensor or array-like
        The targets, of the input's shape (cast to its float dtype).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).
    beta : float, default 1.0
        Where the loss turns from quadratic to linear, >= 0 (0: the L1 loss).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.smooth_l1_loss(tg.Tensor([0.5, 3.0]), [0.0, 0.0], reduction="none").tolist()
    [0.125, 2.5]
    """
    beta = _real_in(beta, "beta", "smooth_l1_loss", 0.0)
    if beta == 0.0:
        return l1_loss(input, target, reduction)
    loss = _quadratic_then_linear(input, target, beta, "smooth_l1_loss") * (1.0 / beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """`0.5 d**2` for `|d| <= delta`, else `delta (|d| - 0.5 delta)`; delta > 0.

    Parameters
    ----------
    input : Tensor
        The predictions, any shape.
    target : Tensor or array-like
        The targets, of the input's shape (cast to its float dtype).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).
    delta : float, default 1.0
        Where the loss turns from quadratic to linear, > 0.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.huber_loss(tg.Tensor([0.5, 3.0]), [0.0, 0.0], reduction="none", delta=2.0).tolist()
    [0.125, 4.0]
    """
    if _real_in(delta, "delta", "huber_loss", 0.0) == 0.0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    return _reduce(_quadratic_then_linear(input, target, delta, "huber_loss"), reduction,
                   "huber_loss")


def kl_div(input: Tensor, target: Any, reduction: str = "mean", log_target: bool = False
           ) -> Tensor:
    """Kullback-Leibler divergence `target (log target - input)` for log-probabilities
    `input`, pointwise (0 where target = 0), as PyTorch.

    `log_target=True` takes the target as log-probabilities too. `"batchmean"` divides
    the sum by the batch size `input.shape[0]` (the true KL divergence per sample);
    `"mean"` divides by the number of elements, as PyTorch does.

    Parameters
    ----------
    input : Tensor
        Log-probabilities, any shape.
    target : Tensor or array-like
        Probabilities (or log-probabilities with `log_target`), of the input's shape.
    reduction : {"mean", "sum", "none", "batchmean"}, default "mean"
        As above: "batchmean" divides the sum by `input.shape[0]`, "mean" by the number of
        elements, "none" keeps the pointwise terms.
    log_target : bool, default False
        Whether `target` is given as log-probabilities.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> logq = tg.Tensor([[0.5, 0.5]]).log()
    >>> round(F.kl_div(logq, [[1.0, 0.0]], reduction="batchmean").item(), 4)   # log 2
    0.6931
    """
    op = "kl_div"
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS + ('batchmean',)}, got "
                         f"{reduction!r}")
    target = _float_target(target, input, op)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        # log of a safe stand-in where target <= 0: the product is replaced by 0 there anyway
        safe = where(positive, target, 1.0)
        loss = where(positive, target * (safe.log() - input), 0.0 * input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, op)


def cosine_similarity(x1: Tensor, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """`x1 . x2 / (max(|x1|, eps) max(|x2|, eps))` along `dim` (inputs broadcast).

    Each vector is divided by its own norm first, as PyTorch (results stay in [-1, 1]).

    Parameters
    ----------
    x1 : Tensor
        The first vectors.
    x2 : Tensor or array-like
        The second vectors; broadcast with `x1`.
    dim : int, default 1
        The axis holding the vectors' components (removed from the result).
    eps : float, default 1e-8
        Smallest norm a vector is divided by, >= 0 (a zero vector gives 0, not NaN).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.cosine_similarity(tg.Tensor([[1.0, 0.0]]), tg.Tensor([[1.0, 1.0]])).tolist()[0] > 0.7
    True
    """
    x2 = _as_target(x2)
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    floor = _real_in(eps, "eps", "cosine_similarity", 0.0) ** 2

    def unit(x: Tensor) -> Tensor:
        # max(|x|, eps) as sqrt(max(|x|**2, eps**2)): finite gradient for a zero vector
        return x / np.maximum((x * x).sum(axis=dim, keepdims=True), floor).sqrt()

    return (unit(x1) * unit(x2)).sum(axis=dim)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Any, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """`max(0, -target (input1 - input2) + margin)` for targets of +1 / -1.

    Parameters
    ----------
    input1, input2 : Tensor
        The two scores of each pair, same shape.
    target : Tensor or array-like
        +1 where `input1` should rank higher, -1 where `input2` should.
    margin : float, default 0.0
        By how much the better score must win to cost nothing.
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.margin_ranking_loss(tg.Tensor([1.0, 1.0]), tg.Tensor([0.0, 3.0]), [1.0, 1.0]).item()
    1.0
    """
    target = _as_target(target)
    if target.dtype != input1.dtype:
        target = target.astype(input1.dtype)
    hinge = -target * (input1 - input2) + margin
    # Gradient 1 at the kink, as PyTorch's clamp_min (the relu op gives 0 there).
    return _reduce(where(hinge >= 0, hinge, 0.0 * hinge), reduction, "margin_ranking_loss")


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
    rounded to exactly 0 or 1. Prefer `binary_cross_entropy_with_logits` on logits: it
    is exact for every logit. `weight` rescales each element's loss (it broadcasts to the
    input's shape). Probabilities outside [0, 1] raise a ValueError.

    Parameters
    ----------
    input : Tensor
        Probabilities in [0, 1], any shape.
    target : Tensor or array-like
        Targets in [0, 1], of the input's shape.
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).
    weight : Tensor or array-like, optional
        Rescales each element's loss; broadcasts to the input's shape (keyword only).

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

    The loss is `max(z, 0) - z y + log1p(e**-|z|)`, and its gradient `sigmoid(z) - y`
    exactly (0.5 - y at z = 0, where a zero-initialised output layer starts). `weight`
    rescales each element's loss; `pos_weight` (broadcast over the input, usually one value
    per class) weighs the positive term, as in PyTorch; it gets no gradient.

    Parameters
    ----------
    input : Tensor
        Logits z, any shape.
    target : Tensor or array-like
        Targets in [0, 1], of the input's shape.
    reduction : {"mean", "sum", "none"}, default "mean"
        Average or sum the per-element losses, or return them unreduced (the input's shape).
    weight : Tensor or array-like, optional
        Rescales each element's loss; broadcasts to the input's shape (keyword only).
    pos_weight : Tensor or array-like, optional
        Multiplies the positive term `y log sigmoid(z)`; broadcasts to the input's shape,
        usually one value per class (keyword only, no gradient).

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


def _class_indices(target: Any, n: int, classes: int, op: str) -> np.ndarray:
    idx = target.data if isinstance(target, Tensor) else np.asarray(target)
    if idx.dtype.kind not in "iu":
        raise TypeError(_not_indices(op, idx.dtype))
    if idx.shape != (n,):
        raise ValueError(f"{op}: expected {n} class indices (shape ({n},)), got shape "
                         f"{idx.shape}")
    check_class_indices(idx, classes, op)
    return idx


def _not_indices(op: str, dtype: np.dtype) -> str:
    hint = "; for class probabilities pass an (N, C) float array" if dtype.kind == "f" else ""
    return f"{op}: class-index targets must be integers, got {dtype}{hint}"


def _class_weight(weight: Any, classes: int, dtype: np.dtype, op: str) -> np.ndarray | None:
    """A per-class rescaling weight as a constant array of shape (C,), or None."""
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        if weight.requires_grad:
            raise ValueError(f"{op}: weight is not differentiable here; pass a tensor without "
                             "requires_grad (e.g. detach() it)")
        weight = weight.data
    weight = np.asarray(weight, dtype=dtype)
    if weight.shape != (classes,):
        raise ValueError(f"{op}: weight must have shape ({classes},), one value per class, got "
                         f"{weight.shape}")
    return weight


def _rows_of_classes(input: Tensor, op: str) -> Tensor:
    """(N, C) or (N, C, d1, ...) or (C,) scores as (M, C) rows, the class axis last."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected (N, C), (N, C, d1, ...) or (C,) input, got a 0-d "
                         "tensor")
    if input.ndim == 1:
        return input.reshape(1, -1)
    if input.ndim == 2:
        return input
    moved = input.permute((0,) + tuple(range(2, input.ndim)) + (1,))
    return moved.reshape(-1, input.shape[1])


def _target_shape(input: Tensor) -> tuple[int, ...]:
    """The shape of class-index targets (and of `reduction="none"` losses) for `input`."""
    return () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]


def _class_targets(input: Tensor, target: Any, ignore_index: int,
                   op: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat class indices (ignored ones replaced by 0, so they index safely) and the mask
    of the kept ones, checked against `input`'s number of classes."""
    idx = target.data if isinstance(target, Tensor) else np.asarray(target)
    if idx.dtype.kind not in "iu":
        raise TypeError(_not_indices(op, idx.dtype))
    expected = _target_shape(input)
    if idx.shape != expected:
        raise ValueError(f"{op}: expected {int(np.prod(expected))} class indices (shape "
                         f"{expected}) for input of shape {input.shape}, got shape {idx.shape}")
    idx = idx.reshape(-1)
    keep = idx != ignore_index
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    _class_indices(idx[keep], int(keep.sum()), classes, op)  # range check of the kept ones
    return np.where(keep, idx, 0), keep


def _weighted_nll(rows: Tensor, idx: np.ndarray, keep: np.ndarray,
                  weight: np.ndarray | None) -> tuple[Tensor, np.ndarray]:
    """Per-row `-w[t] * rows[t]` (0 for ignored rows) and the per-row weights `w[t]`."""
    w = keep.astype(rows.dtype) if weight is None else weight[idx] * keep
    return -rows[np.arange(len(idx)), idx] * Tensor._make(w, None), w


def _reduce_weighted(loss: Tensor, w: np.ndarray, reduction: str, shape: tuple[int, ...],
                     op: str) -> Tensor:
    """PyTorch's class-index reductions: `"mean"` divides by the summed weights of the kept
    targets (NaN when there are none, as PyTorch), not by their count."""
    if reduction == "mean":
        return loss.sum() / Tensor._make(np.asarray(w.sum(), dtype=loss.dtype), None)
    return _reduce(loss.reshape(shape), reduction, op)


def nll_loss(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities, as PyTorch.

    `input` is (N, C), (N, C, d1, ...) or (C,); `target` holds class indices of shape
    (N,), (N, d1, ...) or (). `weight` (C,) rescales each class; targets equal to
    `ignore_index` contribute nothing, and `"mean"` divides by the summed weights of
    the remaining targets.

    Parameters
    ----------
    input : Tensor
        Log-probabilities, (N, C), (N, C, d1, ...) or (C,).
    target : Tensor or array-like of int
        Class indices in [0, C), shape (N,), (N, d1, ...) or ().
    weight : array-like or Tensor, shape (C,), optional
        A rescaling weight per class; none by default.
    ignore_index : int, default -100
        Targets equal to it contribute nothing (class-index targets only).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average (over the summed weights of the kept targets) or sum the losses, or
        return one loss per target (the target's shape).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> logp = tg.Tensor([[-1.0, -2.0], [-3.0, -4.0]])
    >>> F.nll_loss(logp, [0, 1], weight=[1.0, 3.0]).item()   # (1 + 3 * 4) / (1 + 3)
    3.25
    >>> F.nll_loss(logp, [0, -100]).item()
    1.0
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    rows = _rows_of_classes(input, "nll_loss")
    idx, keep = _class_targets(input, target, ignore_index, "nll_loss")
    loss, w = _weighted_nll(rows, idx, keep,
                            _class_weight(weight, rows.shape[1], input.dtype, "nll_loss"))
    return _reduce_weighted(loss, w, reduction, _target_shape(input), "nll_loss")


def cross_entropy(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits, stable for any logit size, as PyTorch.

    `input` is (N, C), (N, C, d1, ...) or (C,). `target` is either class indices
    (integers, shape (N,), (N, d1, ...) or ()) or class probabilities of `input`'s shape
    (floats). `weight` (C,) rescales each class, targets equal to `ignore_index` are
    skipped (class indices only), and `label_smoothing` mixes the target with the uniform
    distribution. With class indices, `"mean"` divides by the summed weights of the kept
    targets, for the smoothing term too (PyTorch's convention). The plain case, (N, C)
    logits with class indices and nothing else, runs as one fused op.

    Parameters
    ----------
    input : Tensor
        Logits (unnormalised), (N, C), (N, C, d1, ...) or (C,).
    target : Tensor or array-like
        Class indices (integers in [0, C), shape (N,), (N, d1, ...) or ()) or class
        probabilities (floats, the input's shape).
    weight : array-like or Tensor, shape (C,), optional
        A rescaling weight per class; none by default.
    ignore_index : int, default -100
        Targets equal to it contribute nothing (class-index targets only).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average (over the summed weights of the kept targets, for class indices) or sum
        the losses, or return one loss per sample (the input's shape without axis C).
    label_smoothing : float, default 0.0
        In [0, 1]: the target becomes (1 - label_smoothing) target + label_smoothing / C.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> round(F.cross_entropy(tg.zeros(2, 4), [1, 3]).item(), 4)   # log 4
    1.3863
    >>> round(F.cross_entropy(tg.zeros(2, 4), [1, -100], label_smoothing=0.1).item(), 4)
    1.3863
    """
    op = "cross_entropy"
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if (weight is None and label_smoothing == 0.0 and reduction == "mean" and input.ndim == 2
            and target_array.dtype.kind in "iu" and target_array.shape == input.shape[:1]
            and not 0 <= ignore_index < input.shape[1]):
        # The common case as one fused op (it runs every training step). The op checks its
        # labels itself (once); a label outside the classes may still be an ignore_index,
        # which the general path below handles, or names as out of range.
        try:
            return apply("cross_entropy", input, Tensor._make(target_array, None))
        except ValueError:
            pass
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    smoothing = _real_in(label_smoothing, "label_smoothing", op, 0.0, 1.0, closed=True)
    rows = _rows_of_classes(input, op)
    classes = rows.shape[1]
    class_weight = _class_weight(weight, classes, input.dtype, op)
    if target_array.dtype.kind == "f":
        return _cross_entropy_probabilities(input, rows, target, class_weight, reduction,
                                            smoothing)
    idx, keep = _class_targets(input, target_array, ignore_index, op)
    logp = rows.log_softmax(axis=1)
    loss, w = _weighted_nll(logp, idx, keep, class_weight)
    out = _reduce_weighted(loss, w, reduction, _target_shape(input), op)
    if smoothing == 0.0:
        return out
    per_class = logp if class_weight is None else logp * Tensor._make(class_weight, None)
    smooth = -per_class.sum(axis=1) * Tensor._make(keep.astype(input.dtype), None)
    if reduction == "mean":
        kept = Tensor._make(np.asarray(w.sum(), dtype=input.dtype), None)
        smooth_out = smooth.sum() / kept
    else:
        smooth_out = _reduce(smooth.reshape(_target_shape(input)), reduction, op)
    return out * (1.0 - smoothing) + smooth_out * (smoothing / classes)


def _cross_entropy_probabilities(input: Tensor, rows: Tensor, target: Any,
                                 class_weight: np.ndarray | None, reduction: str,
                                 smoothing: float) -> Tensor:
    """Cross-entropy against class probabilities; `"mean"` divides by the number of
    rows (not by weights), as PyTorch."""
    op = "cross_entropy"
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target_array.ndim != input.ndim:
        raise TypeError(_not_indices(op, target_array.dtype))  # (N,) floats: mistyped labels
    probs = _as_target(target)
    _check_same_shape(input, probs, op)
    probs_rows = _rows_of_classes(probs, op)
    if smoothing:
        probs_rows = probs_rows * (1.0 - smoothing) + smoothing / rows.shape[1]
    if class_weight is not None:
        probs_rows = probs_rows * Tensor._make(class_weight, None)
    loss = -(rows.log_softmax(axis=1) * probs_rows).sum(axis=1)
    return _reduce(loss.reshape(_target_shape(input)), reduction, op)


def check_probability(p: Any, op: str) -> float:
    """A drop probability: a real number in [0, 1) (1 would divide by zero).

    Parameters
    ----------
    p : float
        The value to check.
    op : str
        The calling function, named in the error (a ValueError outside [0, 1)).
    """
    return _real_in(p, "p", op, 0.0, 1.0)


def check_batch_norm_args(momentum: Any, eps: Any, op: str) -> None:
    """`momentum` in [0, 1] and `eps` > 0 (eps = 0 divides by zero on a constant channel).

    Parameters
    ----------
    momentum : float
        The running-average factor, in [0, 1].
    eps : float
        Added to the variance, > 0.
    op : str
        The calling function, named in the error (a ValueError when either is out of range).
    """
    _real_in(momentum, "momentum", op, 0.0, 1.0, closed=True)
    if _real_in(eps, "eps", op, 0.0) == 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: factories.Generator | None = None) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (inverted
    dropout), so evaluation needs no rescaling.

    Parameters
    ----------
    x : Tensor
        The input, any shape.
    p : float, default 0.5
        Probability of zeroing an element, in [0, 1).
    training : bool, default True
        Drop only in training; otherwise (or with p = 0) return `x` unchanged.
    generator : tinygrad_nd.Generator, optional
        Source of the masks (the default generator otherwise).
    """
    check_probability(p, "dropout")
    if not training or p == 0.0:
        return x
    return x * Tensor._make(dropout_mask(x.shape, p, x.dtype, generator), None)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = True,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over every axis but the channel axis 1, as BatchNorm1d/2d do.

    In training, batch statistics are used and the running ones updated in place
    (unbiased variance, PyTorch's convention); in evaluation, the running ones are used.

    Parameters
    ----------
    x : Tensor, shape (N, C, ...)
        The input; in training, more than one value per channel.
    running_mean, running_var : Tensor, shape (C,) or None
        Running statistics, updated in place in training (may be None there) and used in
        evaluation (required there).
    weight : Tensor, shape (C,), optional
        Per-channel scale; none by default.
    bias : Tensor, shape (C,), optional
        Per-channel shift; none by default.
    training : bool, default True
        Use the batch's statistics (and update the running ones) or the running ones.
    momentum : float, default 0.1
        Weight of the batch statistics in the running averages, in [0, 1].
    eps : float, default 1e-5
        Added to the variance before its square root, > 0.
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
            update_running_stats(running_mean, running_var, mean.data, var.data, momentum, count)
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


from .activation_functional import (  # noqa: E402,F401  (PyTorch's F: one namespace)
    celu,
    check_gelu_approximate,
    elu,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softmin,
    softplus,
    softsign,
    threshold,
)
from .functional_layers import (  # noqa: E402,F401  (PyTorch's names, one namespace)
    embedding,
    group_norm,
    instance_norm,
    layer_norm,
    scaled_dot_product_attention,
)
