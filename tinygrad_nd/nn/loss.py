"""Loss modules: the functional losses with their options stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from . import functional as F
from .module import Module


def _register_weight(module: Module, name: str, value: Any) -> None:
    """A rescaling weight as a buffer, as PyTorch keeps it, so it is in the state dict
    (`weight`, `pos_weight`) and a PyTorch loss's state dict loads strictly."""
    if value is not None and not isinstance(value, Tensor):
        array = np.asarray(value)
        value = Tensor(array, dtype=array.dtype if array.dtype.kind == "f" else
                       dtypes.get_default_dtype())
    module.register_buffer(name, value)


class _Loss(Module):
    function: Callable[..., Tensor]

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {F.REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return type(self).function(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error (see `tinygrad_nd.nn.functional.mse_loss`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    """

    function = staticmethod(F.mse_loss)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities, optionally rescaled per element by `weight`
    (see `tinygrad_nd.nn.functional.binary_cross_entropy`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    weight : array or Tensor, optional
        A rescaling weight per element (broadcast against the input).
    """

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, reduction: str = "mean", *, weight: Any = None) -> None:
        super().__init__(reduction)
        _register_weight(self, "weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, reduction=self.reduction, weight=self.weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, exact for every logit, with PyTorch's `weight` and
    `pos_weight` (see `tinygrad_nd.nn.functional.binary_cross_entropy_with_logits`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    weight : array or Tensor, optional
        A rescaling weight per element (broadcast against the input).
    pos_weight : array or Tensor, optional
        A weight of the positive examples, per class (the last dim).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> loss = BCEWithLogitsLoss(pos_weight=[3.0])
    >>> round(loss(tg.zeros(2, 1), [[1.0], [0.0]]).item(), 4)   # (3 log 2 + log 2) / 2
    1.3863
    """

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, reduction: str = "mean", *, weight: Any = None,
                 pos_weight: Any = None) -> None:
        super().__init__(reduction)
        _register_weight(self, "weight", weight)
        _register_weight(self, "pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction,
                                                  weight=self.weight, pos_weight=self.pos_weight)


class _ClassLoss(_Loss):
    """A loss over class indices, with PyTorch's per-class `weight` and `ignore_index`."""

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        _register_weight(self, "weight", weight)
        self.ignore_index = ignore_index


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of class indices (see
    `tinygrad_nd.nn.functional.nll_loss`).

    Parameters
    ----------
    weight : array or Tensor, optional
        A rescaling weight per class.
    ignore_index : int
        Targets equal to it contribute nothing (nor to the mean's count).
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy of logits against class indices or probabilities, with
    `weight`, `ignore_index` and `label_smoothing` (see
    `tinygrad_nd.nn.functional.cross_entropy`).

    Parameters
    ----------
    weight : array or Tensor, optional
        A rescaling weight per class.
    ignore_index : int
        Targets equal to it contribute nothing (nor to the mean's count).
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    label_smoothing : float
        In [0, 1]: the target mixes the given class with the uniform distribution.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(loss(tg.zeros(2, 4), [1, 3]).item(), 4)   # uniform logits: log 4 whatever the target
    1.3863
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class L1Loss(_Loss):
    """Mean absolute error (see `tinygrad_nd.nn.functional.l1_loss`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    """

    function = staticmethod(F.l1_loss)


class SmoothL1Loss(_Loss):
    """Quadratic below `beta`, linear above (see
    `tinygrad_nd.nn.functional.smooth_l1_loss`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    beta : float
        Where the loss turns from quadratic to linear.
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic up to `delta`, then linear with slope `delta` (see
    `tinygrad_nd.nn.functional.huber_loss`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    delta : float
        Where the loss turns from quadratic to linear.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(Module):
    """Kullback-Leibler divergence of log-probabilities (see
    `tinygrad_nd.nn.functional.kl_div`); `reduction` may also be `"batchmean"`.

    Parameters
    ----------
    reduction : {"mean", "batchmean", "sum", "none"}
        How the per-element losses are combined (`"batchmean"`: the sum over the batch size,
        the mathematically correct KL divergence).
    log_target : bool
        Whether the target is given as log-probabilities too.
    """

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS + ("batchmean",):
            raise ValueError(f"KLDivLoss: reduction must be one of "
                             f"{F.REDUCTIONS + ('batchmean',)}, got {reduction!r}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.kl_div(input, target, self.reduction, self.log_target)


class MarginRankingLoss(_Loss):
    """`max(0, -y (x1 - x2) + margin)` (see
    `tinygrad_nd.nn.functional.margin_ranking_loss`).

    Parameters
    ----------
    margin : float
        The margin by which `x1` should exceed `x2` (for y = 1).
    reduction : {"mean", "sum", "none"}
        How the per-element losses are combined.
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Any) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class CosineSimilarity(Module):
    """Cosine similarity along `dim` (see
    `tinygrad_nd.nn.functional.cosine_similarity`).

    Parameters
    ----------
    dim : int
        The dim along which the vectors lie.
    eps : float
        Lower bound of each vector's norm (avoids dividing by zero).
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
