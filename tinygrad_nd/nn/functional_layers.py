"""Functional forms of the normalisation, embedding and attention layers (composites of
registered ops), re-exported by `tinygrad_nd.nn.functional` under PyTorch's names."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import factories
from ..autograd import no_grad
from ..functional import _int_at_least, _real_in, where
from ..tensor import Tensor


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """`(x - mean) / sqrt(var + eps)` over `axes` with the biased variance."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps).sqrt()


def _check_eps(eps: Any, op: str) -> float:
    if _real_in(eps, "eps", op, 0.0) == 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")
    return float(eps)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last `len(normalized_shape)` axes (biased variance), then scale
    by `weight` and shift by `bias` (both of `normalized_shape`), as PyTorch.

    Parameters
    ----------
    input : Tensor
        Any shape that ends with `normalized_shape`.
    normalized_shape : int or sequence of int
        The trailing axes normalised together.
    weight : Tensor, optional
        Scale of `normalized_shape`; none by default.
    bias : Tensor, optional
        Shift of `normalized_shape`; none by default.
    eps : float, default 1e-5
        Added to the variance before its square root; positive.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> [round(v, 3) for v in F.layer_norm(tg.Tensor([[1.0, 3.0]]), (2,)).tolist()[0]]
    [-1.0, 1.0]
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape):] != shape or len(shape) > input.ndim:
        raise ValueError(f"layer_norm: normalized_shape {shape} does not match the trailing "
                         f"dims of input of shape {input.shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    out = _normalize(input, axes, _check_eps(eps, "layer_norm"))
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _channel_affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """Scale and shift channel axis 1 of an (N, C, ...) tensor."""
    shape = (1, out.shape[1]) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each of `num_groups` groups of channels of an (N, C, ...) input over its
    channels and positions, then scale and shift per channel, as PyTorch.

    Parameters
    ----------
    input : Tensor, shape (N, C, ...)
        C must be divisible by `num_groups`.
    num_groups : int
        Groups of consecutive channels, each normalised (per sample) over its channels and
        positions.
    weight : Tensor, shape (C,), optional
        Per-channel scale; none by default.
    bias : Tensor, shape (C,), optional
        Per-channel shift; none by default.
    eps : float, default 1e-5
        Added to the variance before its square root; positive.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.group_norm(tg.randn(2, 4, 3), 2).shape
    (2, 4, 3)
    """
    _int_at_least(num_groups, "num_groups", "group_norm")
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected (N, C, ...) input with C divisible by "
                         f"num_groups={num_groups}, got shape {input.shape}")
    per_group = input.size // max(input.shape[0] * num_groups, 1)  # -1 fails on N = 0
    grouped = input.reshape(input.shape[0], num_groups, per_group)
    out = _normalize(grouped, (2,), _check_eps(eps, "group_norm")).reshape(input.shape)
    return _channel_affine(out, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of an (N, C, ...) input over its positions.

    With `use_input_stats` (training, or no running statistics) the running statistics,
    when given, are updated in place with the batch average of the per-instance mean and
    unbiased variance; otherwise they are used, as PyTorch.

    Parameters
    ----------
    input : Tensor, shape (N, C, ...)
        At least one position axis.
    running_mean, running_var : Tensor, shape (C,), optional
        Running statistics: updated in place with `use_input_stats`, used otherwise.
    weight : Tensor, shape (C,), optional
        Per-channel scale; none by default.
    bias : Tensor, shape (C,), optional
        Per-channel shift; none by default.
    use_input_stats : bool, default True
        Normalise with each instance's own statistics (training); False uses the running
        ones (which must then be given).
    momentum : float, default 0.1
        Weight of the new statistics in the running averages.
    eps : float, default 1e-5
        Added to the variance before its square root; positive.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.instance_norm(tg.randn(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected (N, C, ...) input with positions, got shape "
                         f"{input.shape}")
    eps = _check_eps(eps, "instance_norm")
    axes = tuple(range(2, input.ndim))
    if use_input_stats:
        out = _normalize(input, axes, eps)
        if running_mean is not None and running_var is not None:
            count = int(np.prod(input.shape[2:]))
            data = input.data.reshape(input.shape[0], input.shape[1], -1)
            unbiased = data.var(axis=2, ddof=1).mean(axis=0) if count > 1 else \
                np.full(input.shape[1], np.nan, input.dtype)
            with no_grad():
                running_mean.mul_(1 - momentum).add_(data.mean(axis=2).mean(axis=0),
                                                     alpha=momentum)
                running_var.mul_(1 - momentum).add_(unbiased.astype(input.dtype), alpha=momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running statistics")
        shape = (1, input.shape[1]) + (1,) * len(axes)
        out = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    return _channel_affine(out, weight, bias)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer indices `input`.

    The row `padding_idx` gets no gradient; `max_norm` renormalises (in place, as
    PyTorch) each looked-up row whose `norm_type` norm exceeds it. `scale_grad_by_freq`
    and `sparse` are not supported (a ValueError when true).

    Parameters
    ----------
    input : Tensor or array-like of int
        Indices into the rows of `weight`, any shape; negative ones count from the end.
    weight : Tensor, shape (num_embeddings, dim)
        The embedding table.
    padding_idx : int, optional
        A row that gets no gradient (its value is still returned); none by default.
    max_norm : float, optional
        Renormalise each looked-up row whose norm exceeds it, in place; none by default.
    norm_type : float, default 2.0
        The p of that norm.
    scale_grad_by_freq, sparse : bool, default False
        PyTorch's options; accepted only as False.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.embedding([[0, 2]], tg.Tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])).tolist()
    [[[0.0, 1.0], [4.0, 5.0]]]
    """
    if scale_grad_by_freq or sparse:
        raise ValueError("embedding: scale_grad_by_freq and sparse are not supported")
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {idx.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: expected a 2-d weight, got shape {weight.shape}")
    rows = weight.shape[0]
    if idx.size and (idx.min() < -rows or idx.max() >= rows):
        raise IndexError(f"embedding: index out of range for {rows} embeddings")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx {padding_idx} out of range for {rows} "
                             "embeddings")
        padding_idx %= rows
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx % rows), float(max_norm), float(norm_type))
    out = weight[idx]
    if padding_idx is None:
        return out
    # The padding row's value as it is, but without a gradient (PyTorch's contract).
    keep = Tensor._make((idx % rows != padding_idx)[..., None], None)
    return where(keep, out, out.detach())


def _renorm_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    picked = weight.data[rows]
    norms = np.sum(np.abs(picked) ** norm_type, axis=1) ** (1.0 / norm_type)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    with no_grad():
        weight[rows] = (picked * scale[:, None]).astype(weight.dtype)


def _repeat_heads(x: Tensor, times: int) -> Tensor:
    """(..., H, S, E) -> (..., H * times, S, E), each head repeated `times` in a row."""
    if times == 1:
        return x
    lead, (heads, length, width) = x.shape[:-3], x.shape[-3:]
    wide = x.unsqueeze(-3).expand(*lead, heads, times, length, width)
    return wide.reshape(*lead, heads * times, length, width)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False, *,
                                 generator: factories.Generator | None = None) -> Tensor:
    """`softmax(q k^T * scale + mask) v` over (..., L, E) queries and (..., S, E) keys.

    `attn_mask` is boolean (True takes part) or float (added to the scores), broadcast to
    (..., L, S); `is_causal` masks the upper triangle of an (L, S) matrix (top-left
    aligned, as PyTorch); `scale` defaults to 1/sqrt(E); `dropout_p` drops attention
    weights (draws come from `generator`, a keyword of this library); `enable_gqa` repeats
    the key/value heads to match the query heads. Rows that mask everything give NaN, as
    PyTorch's reference implementation.

    Parameters
    ----------
    query : Tensor, shape (..., L, E)
        The queries.
    key : Tensor, shape (..., S, E)
        The keys.
    value : Tensor, shape (..., S, Ev)
        The values; the result is (..., L, Ev).
    attn_mask : Tensor or array-like, optional
        Boolean (True: may attend) or float (added to the scores), broadcast to (..., L, S).
    dropout_p : float, default 0.0
        Probability of dropping each attention weight (always applied when positive).
    is_causal : bool, default False
        Let query i attend to keys 0..i only; not together with `attn_mask`.
    scale : float, optional
        Multiplies the scores; 1/sqrt(E) by default.
    enable_gqa : bool, default False
        Grouped-query attention: repeat the key/value heads (axis -3) to the query heads'
        number, a multiple of theirs.
    generator : tinygrad_nd.Generator, optional
        Source of the dropout masks (keyword only; the default generator otherwise).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> q = k = v = tg.randn(2, 4, 3, 8)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 3, 8)
    """
    from .functional import dropout

    op = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2 or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{op}: expected query (..., L, E), key (..., S, E) and value "
                         f"(..., S, Ev), got {query.shape}, {key.shape}, {value.shape}")
    if enable_gqa and query.ndim >= 3:
        if query.shape[-3] % key.shape[-3]:
            raise ValueError(f"{op}: {query.shape[-3]} query heads are not a multiple of "
                             f"{key.shape[-3]} key/value heads")
        key = _repeat_heads(key, query.shape[-3] // key.shape[-3])
        value = _repeat_heads(value, query.shape[-3] // value.shape[-3])
    length, source = query.shape[-2], key.shape[-2]
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ key.mT) * factor
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        attn_mask = np.tril(np.ones((length, source), dtype=bool))
    if attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor._make(
            np.asarray(attn_mask), None)
        if mask.dtype == np.bool_:
            scores = where(mask, scores, float("-inf"))
        else:
            scores = scores + mask.astype(scores.dtype)
    weights = scores.softmax(axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, True, generator)
    return weights @ value
