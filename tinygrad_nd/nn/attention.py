"""Multi-head attention with PyTorch's parameters (`in_proj_weight`, `in_proj_bias`,
`out_proj`; `q/k/v_proj_weight` when key and value sizes differ), masks and outputs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes, factories
from ..functional import _int_at_least
from ..tensor import Tensor
from . import functional as F
from .init import xavier_uniform_, zeros_
from .layers import Linear, _check_bool
from .module import Module, Parameter


def _additive(mask: Any, dtype: np.dtype) -> Tensor | None:
    """A mask as scores to add: a boolean True (not allowed to attend) becomes -inf."""
    if mask is None:
        return None
    mask = mask if isinstance(mask, Tensor) else Tensor._make(np.asarray(mask), None)
    if mask.dtype == np.bool_:
        return Tensor._make(np.where(mask.data, -np.inf, 0.0).astype(dtype), None)
    return mask.astype(dtype) if mask.dtype != dtype else mask


class MultiheadAttention(Module):
    """`out_proj(concat_h softmax(q_h k_h^T / sqrt(d) + mask) v_h)`, as PyTorch.

    Inputs are (L, N, E) (`batch_first`: (N, L, E); unbatched: (L, E)). `attn_mask` is
    (L, S) or (N * num_heads, L, S), `key_padding_mask` (N, S); a boolean True marks a
    position that may *not* be attended to, a float one is added to the scores. Returns
    `(output, weights)`: the weights averaged over heads (N, L, S) unless
    `average_attn_weights=False` (N, num_heads, L, S), None unless `need_weights`.
    `add_bias_kv` and `add_zero_attn` are not supported (a ValueError when true).

    Parameters
    ----------
    embed_dim : int
        E, the features of the query and of the output.
    num_heads : int
        How many heads E is split into (E must be divisible by it; each head has
        E / num_heads features).
    dropout : float, default 0.0
        In training mode, dropout with this probability on the attention weights.
    bias : bool, default True
        Learn `in_proj_bias` (3 E, zeros) and `out_proj.bias` (zeros).
    add_bias_kv, add_zero_attn : bool, default False
        PyTorch's extra key/value rows; accepted only as False.
    kdim, vdim : int, optional
        The features of the key and of the value (E by default). When either differs from
        E, the projections are `q_proj_weight`, `k_proj_weight`, `v_proj_weight` instead of
        one stacked `in_proj_weight`.
    batch_first : bool, default False
        Inputs and output as (N, L, E) instead of (L, N, E).
    generator : tinygrad_nd.Generator, optional
        Source of the initial weights (Xavier-uniform projections, as PyTorch) and of the
        dropout masks; the default generator otherwise.
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> out, w = mha(tg.randn(3, 5, 8), tg.randn(3, 6, 8), tg.randn(3, 6, 8))
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 6))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__()
        name = "MultiheadAttention"
        dtype = dtypes.check_float_dtype(dtype, name)
        _int_at_least(embed_dim, "embed_dim", name)
        _int_at_least(num_heads, "num_heads", name)
        for flag, value in (("bias", bias), ("batch_first", batch_first),
                            ("add_bias_kv", add_bias_kv), ("add_zero_attn", add_zero_attn)):
            _check_bool(value, flag, name)
        if add_bias_kv or add_zero_attn:
            raise ValueError(f"{name}: add_bias_kv and add_zero_attn are not supported")
        if embed_dim % num_heads:
            raise ValueError(f"{name}: embed_dim={embed_dim} must be divisible by "
                             f"num_heads={num_heads}")
        F.check_probability(dropout, name)
        self.kdim = embed_dim if kdim is None else _int_at_least(kdim, "kdim", name)
        self.vdim = embed_dim if vdim is None else _int_at_least(vdim, "vdim", name)
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, \
            embed_dim // num_heads
        self.dropout, self.batch_first, self.generator = float(dropout), batch_first, generator
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(factories.zeros(3 * embed_dim, embed_dim,
                                                            dtype=dtype))
            xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for part, width in (("q", embed_dim), ("k", self.kdim), ("v", self.vdim)):
                weight = Parameter(factories.zeros(embed_dim, width, dtype=dtype))
                setattr(self, f"{part}_proj_weight", xavier_uniform_(weight,
                                                                     generator=generator))
        self.register_parameter("in_proj_bias", Parameter(factories.zeros(3 * embed_dim,
                                                                          dtype=dtype))
                                if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias, generator=generator, dtype=dtype)
        if bias:  # PyTorch zeroes the output bias (its weight keeps Linear's init)
            zeros_(self.out_proj.bias)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor
                     ) -> tuple[Tensor, Tensor, Tensor]:
        e = self.embed_dim
        bias = self.in_proj_bias
        biases = (None, None, None) if bias is None else (bias[:e], bias[e:2 * e], bias[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, wt) if b is None else F.linear(x, wt, b)  # type: ignore
                     for x, wt, b in zip((query, key, value), weights, biases))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        name = "MultiheadAttention"
        if is_causal and attn_mask is None:
            raise ValueError(f"{name}: is_causal=True is a hint that attn_mask is causal; pass "
                             "the mask too (as PyTorch)")
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(getattr(key_padding_mask, "data",
                                                      key_padding_mask))[None]
        elif self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if query.ndim != 3 or query.shape[-1] != self.embed_dim or key.shape[-1] != self.kdim \
                or value.shape[-1] != self.vdim or key.shape[:2] != value.shape[:2] \
                or key.shape[1] != query.shape[1]:
            raise ValueError(f"{name}: query, key, value of shapes {query.shape}, {key.shape}, "
                             f"{value.shape} do not fit embed_dim={self.embed_dim}, "
                             f"kdim={self.kdim}, vdim={self.vdim}")
        length, batch, _ = query.shape
        source = key.shape[0]
        q, k, v = self._projections(query, key, value)
        heads, width = self.num_heads, self.head_dim

        def split_heads(x: Tensor, steps: int) -> Tensor:  # (T, N, E) -> (N, heads, T, d)
            return x.reshape(steps, batch, heads, width).permute((1, 2, 0, 3))

        q, k, v = split_heads(q, length), split_heads(k, source), split_heads(v, source)
        scores = (q @ k.mT) * (1.0 / math.sqrt(width))
        mask = _additive(attn_mask, scores.dtype)
        if mask is not None:
            if mask.ndim == 3:
                mask = mask.reshape(batch, heads, length, source)
            scores = scores + mask
        padding = _additive(key_padding_mask, scores.dtype)
        if padding is not None:
            if padding.shape != (batch, source):
                raise ValueError(f"{name}: expected key_padding_mask of shape "
                                 f"{(batch, source)}, got {padding.shape}")
            scores = scores + padding.reshape(batch, 1, 1, source)
        weights = scores.softmax(axis=-1)
        if self.dropout and self.training:
            weights = F.dropout(weights, self.dropout, True, self.generator)
        out = (weights @ v).permute((2, 0, 1, 3)).reshape(length, batch, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out[:, 0]
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights[0] if unbatched else weights)

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"batch_first={self.batch_first}")

