"""Normalisation layers with PyTorch's names, parameters and buffers: BatchNorm1d/2d/3d,
LayerNorm, GroupNorm, InstanceNorm1d/2d (a PyTorch state_dict loads into them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes, factories
from ..autograd import no_grad
from ..functional import _int_at_least
from ..tensor import Tensor
from . import functional as F
from .layers import _check_bool
from .module import Module, Parameter


def _affine(module: Module, shape: tuple[int, ...], weight: bool, bias: bool,
            dtype: Any) -> None:
    """Register `weight` (ones) and `bias` (zeros) of `shape`, or None for each."""
    module.register_parameter("weight", Parameter(factories.ones(*shape, dtype=dtype))
                              if weight else None)
    module.register_parameter("bias", Parameter(factories.zeros(*shape, dtype=dtype))
                              if bias else None)


class _NormBase(Module):
    """Per-channel affine parameters and running statistics, as PyTorch's `_NormBase`
    (`running_mean`, `running_var` and the int64 `num_batches_tracked`)."""

    expected_dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        dtype = dtypes.check_float_dtype(dtype, name)
        _int_at_least(num_features, "num_features", name)
        F.check_batch_norm_args(0.1 if momentum is None else momentum, eps, name)
        _check_bool(affine, "affine", name)
        _check_bool(track_running_stats, "track_running_stats", name)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine(self, (num_features,), affine, affine, dtype)
        track = track_running_stats
        self.register_buffer("running_mean", factories.zeros(num_features, dtype=dtype)
                             if track else None)
        self.register_buffer("running_var", factories.ones(num_features, dtype=dtype)
                             if track else None)
        self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64))
                             if track else None)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in self.expected_dims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input with {self.expected_dims} "
                             f"dims and {self.num_features} channels on axis 1, got shape "
                             f"{x.shape}")

    def _momentum(self) -> float:
        """The running-average factor of this step: `momentum`, or 1/(batches seen) for a
        cumulative average when it is None (PyTorch's convention); counts the batch."""
        if self.training and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                return 1.0 / float(self.num_batches_tracked.item())
        return 0.0 if self.momentum is None else self.momentum

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch, self._momentum(), self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel.

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistics in the running averages
        (`running = (1 - momentum) running + momentum batch`); None for a cumulative
        average over all batches seen.
    affine : bool, default True
        Learn a per-channel `weight` (ones) and `bias` (zeros); else both are None.
    track_running_stats : bool, default True
        Keep `running_mean`, `running_var` and `num_batches_tracked` buffers, used in
        eval mode; without them, eval mode normalises with the input's own statistics.
    dtype : float dtype, optional
        Of the parameters and buffers: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.BatchNorm1d(4)(tg.randn(8, 4)).shape
    (8, 4)
    """

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel (each channel over the batch
    and all positions).

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistics in the running averages
        (`running = (1 - momentum) running + momentum batch`); None for a cumulative
        average over all batches seen.
    affine : bool, default True
        Learn a per-channel `weight` (ones) and `bias` (zeros); else both are None.
    track_running_stats : bool, default True
        Keep `running_mean`, `running_var` and `num_batches_tracked` buffers, used in
        eval mode; without them, eval mode normalises with the input's own statistics.
    dtype : float dtype, optional
        Of the parameters and buffers: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.BatchNorm2d(3)(tg.randn(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """

    expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs per channel.

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    momentum : float or None, default 0.1
        Weight of the new batch statistics in the running averages
        (`running = (1 - momentum) running + momentum batch`); None for a cumulative
        average over all batches seen.
    affine : bool, default True
        Learn a per-channel `weight` (ones) and `bias` (zeros); else both are None.
    track_running_stats : bool, default True
        Keep `running_mean`, `running_var` and `num_batches_tracked` buffers, used in
        eval mode; without them, eval mode normalises with the input's own statistics.
    dtype : float dtype, optional
        Of the parameters and buffers: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> sorted(nn.BatchNorm3d(2).state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    expected_dims = (5,)


class _InstanceNorm(_NormBase):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, x: Tensor) -> Tensor:
        unbatched = x.ndim == min(self.expected_dims) - 1
        if unbatched:  # (C, ...) without the batch axis, as PyTorch accepts
            x = x.unsqueeze(0)
        self._check_input(x)
        use_input_stats = self.training or self.running_mean is None
        # PyTorch's instance norm never counts batches (num_batches_tracked stays 0) and
        # reads momentum=None as 0: running statistics then stay where they are.
        momentum = 0.0 if self.momentum is None else self.momentum
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats, momentum, self.eps)
        return out.reshape(out.shape[1:]) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs: each channel of each sample
    over its positions (no affine parameters nor running statistics by default).

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    momentum : float or None, default 0.1
        Weight of the new per-sample statistics in the running averages
        (`running = (1 - momentum) running + momentum batch`); None for a cumulative
        average (the running statistics then stay put, as in PyTorch).
    affine : bool, default False
        Learn a per-channel `weight` (ones) and `bias` (zeros); else both are None.
    track_running_stats : bool, default False
        Keep `running_mean`, `running_var` and `num_batches_tracked` buffers, used in
        eval mode; without them, eval mode normalises with the input's own statistics.
    dtype : float dtype, optional
        Of the parameters and buffers: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.InstanceNorm1d(3)(tg.randn(3, 10)).shape    # unbatched (C, L) works too
    (3, 10)
    """

    expected_dims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs: each channel of each
    sample over its positions (no affine parameters nor running statistics by default).

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    momentum : float or None, default 0.1
        Weight of the new per-sample statistics in the running averages
        (`running = (1 - momentum) running + momentum batch`); None for a cumulative
        average (the running statistics then stay put, as in PyTorch).
    affine : bool, default False
        Learn a per-channel `weight` (ones) and `bias` (zeros); else both are None.
    track_running_stats : bool, default False
        Keep `running_mean`, `running_var` and `num_batches_tracked` buffers, used in
        eval mode; without them, eval mode normalises with the input's own statistics.
    dtype : float dtype, optional
        Of the parameters and buffers: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> y = nn.InstanceNorm2d(3)(tg.randn(2, 3, 4, 4))
    >>> abs(y.mean(axis=(2, 3))).max().item() < 1e-5
    True
    """

    expected_dims = (4,)


class LayerNorm(Module):
    """Normalise over the trailing `normalized_shape` axes, with elementwise `weight`
    and `bias` of that shape (PyTorch's `elementwise_affine` and `bias` flags).

    Parameters
    ----------
    normalized_shape : int or sequence of int
        The shape of the trailing axes normalised together (`8`, or `(5, 8)`); the input
        must end with it.
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    elementwise_affine : bool, default True
        Learn `weight` (ones) and `bias` (zeros) of `normalized_shape`; else both are None.
    bias : bool, default True
        With `elementwise_affine`, whether to learn the `bias` too (else it is None).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> ln = nn.LayerNorm(8)
    >>> ln(tg.randn(2, 5, 8)).shape, ln.weight.shape
    ((2, 5, 8), (8,))
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        dtype = dtypes.check_float_dtype(dtype, "LayerNorm")
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        for size in shape:
            _int_at_least(size, "normalized_shape", "LayerNorm", 0)
        _check_bool(elementwise_affine, "elementwise_affine", "LayerNorm")
        _check_bool(bias, "bias", "LayerNorm")
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        _affine(self, shape, elementwise_affine, elementwise_affine and bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise groups of channels of (N, C, ...) inputs, with per-channel `weight` and
    `bias`.

    Parameters
    ----------
    num_groups : int
        How many groups the channels are split into (consecutive channels, C / num_groups
        each); each group of each sample is normalised over its channels and positions.
    num_channels : int
        C, the number of channels (axis 1); must be divisible by `num_groups`.
    eps : float, default 1e-5
        Added to the variance before its square root, for stability.
    affine : bool, default True
        Learn a per-channel `weight` (ones) and `bias` (zeros); else both are None.
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.GroupNorm(2, 4)(tg.randn(3, 4, 5)).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = None) -> None:
        super().__init__()
        dtype = dtypes.check_float_dtype(dtype, "GroupNorm")
        _int_at_least(num_groups, "num_groups", "GroupNorm")
        _int_at_least(num_channels, "num_channels", "GroupNorm")
        _check_bool(affine, "affine", "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        _affine(self, (num_channels,), affine, affine, dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected (N, {self.num_channels}, ...) input, got "
                             f"shape {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
