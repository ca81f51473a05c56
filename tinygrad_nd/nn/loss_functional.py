"""Losses whose target has the input's shape: regression (`mse_loss`, `l1_loss`,
`smooth_l1_loss`, `huber_loss`), distributions (`kl_div`), ranking (`margin_ranking_loss`),
binary classification (`binary_cross_entropy`, `..._with_logits`), and `cosine_similarity`
(the function behind `nn.CosineSimilarity`, which sits with the loss modules in `nn/loss.py`).

Also the reduction helpers every loss shares (`REDUCTIONS`); the losses over a class axis
(`nll_loss`, `cross_entropy`) are in `class_loss_functional`. All are re-exported by
`tinygrad_nd.nn.functional`, PyTorch's `F`, and are composites of registered ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import _real_in, where
from ..registry import apply
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

