"""Layers with parameters or modes: Linear, Flatten, Dropout, BatchNorm (convolutions are in
nn/conv.py, pooling in nn/pooling.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import dtypes, factories
from ..functional import _int_at_least
from ..tensor import Tensor
from . import functional as F
from .init import init_layer
from .module import Module, Parameter

Init = str | Callable[..., Any]


def _check_bool(value: Any, name: str, layer: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be a bool, got {type(value).__name__} {value!r}")


class Linear(Module):
    """``y = x W^T + b`` with ``W`` of shape (out_features, in_features).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    init : str or callable
        A scheme of :mod:`tinygrad_nd.nn.init` (default ``"pytorch"``: U(+-1/sqrt(fan_in))
        for weight and bias; ``"nielsen"``, ``"standard"``, ``"xavier_normal"``,
        ``"kaiming_normal"`` ...) or ``fn(weight, bias)``.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: the default dtype (float32) when None, ``np.float64`` on
        request; a non-float dtype raises a TypeError.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.Linear(784, 30, init="nielsen")(tg.zeros(5, 784)).shape
    (5, 30)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: Init = "pytorch", generator: factories.Generator | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        dtype = dtypes.check_float_dtype(dtype, "Linear")
        self.in_features = _int_at_least(in_features, "in_features", "Linear")
        self.out_features = _int_at_least(out_features, "out_features", "Linear")
        _check_bool(bias, "bias", "Linear")
        self.weight = Parameter(factories.zeros(out_features, in_features, dtype=dtype))
        self.register_parameter("bias", Parameter(factories.zeros(out_features, dtype=dtype))
                                if bias else None)
        init_layer(self.weight, self.bias, init, generator)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        _int_at_least(start_dim, "start_dim", "Flatten", -1 << 62)  # any int, not a bool
        _int_at_least(end_dim, "end_dim", "Flatten", -1 << 62)
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class Dropout(Module):
    """Inverted dropout: active in ``train()`` mode, the identity in ``eval()`` mode."""

    def __init__(self, p: float = 0.5, generator: factories.Generator | None = None) -> None:
        super().__init__()
        F.check_probability(p, "Dropout")
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype: Any = None) -> None:
        super().__init__()
        dtype = dtypes.check_float_dtype(dtype, type(self).__name__)
        name = type(self).__name__
        _int_at_least(num_features, "num_features", name)
        F.check_batch_norm_args(momentum, eps, name)
        _check_bool(affine, "affine", name)
        _check_bool(track_running_stats, "track_running_stats", name)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.register_parameter("weight", Parameter(factories.ones(num_features, dtype=dtype))
                                if affine else None)
        self.register_parameter("bias", Parameter(factories.zeros(num_features, dtype=dtype))
                                if affine else None)
        self.register_buffer("running_mean", factories.zeros(num_features, dtype=dtype)
                             if track_running_stats else None)
        self.register_buffer("running_var", factories.ones(num_features, dtype=dtype)
                             if track_running_stats else None)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.expected_dims or x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.expected_dims} dims and "
                             f"{self.num_features} channels on axis 1, got shape {x.shape}")
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel."""

    expected_dims = (4,)


