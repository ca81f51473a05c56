"""Layers with parameters or modes: Linear, Flatten/Unflatten, Dropout, Embedding
(convolutions are in nn/conv.py, pooling in nn/pooling.py, normalisation in
nn/normalization.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

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
    """`y = x W^T + b` with `W` of shape (out_features, in_features).

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output vector.
    bias : bool
        Whether the layer adds a learnable bias `b`.
    init : str or callable
        A scheme of `tinygrad_nd.nn.init` (default `"pytorch"`: U(+-1/sqrt(fan_in))
        for weight and bias; `"nielsen"`, `"standard"`, `"xavier_normal"`,
        `"kaiming_normal"` ...) or `fn(weight, bias)`.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values (the default generator otherwise).
    dtype : float dtype, optional
        Of the weight and bias: the default dtype (float32) when None, `np.float64` on
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
    """Merge axes `start_dim..end_dim` (by default all but the batch axis).

    Parameters
    ----------
    start_dim, end_dim : int
        The first and last axes merged (negative ones count from the end).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        _int_at_least(start_dim, "start_dim", "Flatten", -1 << 62)  # any int, not a bool
        _int_at_least(end_dim, "end_dim", "Flatten", -1 << 62)
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class Dropout(Module):
    """Inverted dropout: active in `train()` mode, the identity in `eval()` mode.

    Parameters
    ----------
    p : float
        Probability of zeroing an element (kept ones are scaled by 1 / (1 - p)).
    generator : Generator, optional
        The source of the random masks (default: the default generator).
    """

    def __init__(self, p: float = 0.5, generator: factories.Generator | None = None) -> None:
        super().__init__()
        F.check_probability(p, "Dropout")
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size` (the inverse of `Flatten`).

    Parameters
    ----------
    dim : int
        The axis to split.
    unflattened_size : tuple or list of int
        The new axes' sizes (their product is the size of `dim`).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.Unflatten(1, (2, 5))(tg.zeros(3, 10)).shape
    (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        _int_at_least(dim, "dim", "Unflatten", -1 << 62)
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__}")
        for size in unflattened_size:
            _int_at_least(size, "unflattened_size", "Unflatten", -1)
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        dim = self.dim % x.ndim if -x.ndim <= self.dim < x.ndim else self.dim
        if not 0 <= dim < x.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} out of range for input of shape "
                             f"{x.shape}")
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Embedding(Module):
    """A lookup table of `num_embeddings` vectors of size `embedding_dim`: integer
    indices of any shape in, their rows out (weight initialised N(0, 1), as PyTorch).

    `padding_idx` names a row that starts at zero and gets no gradient; `max_norm`
    renormalises looked-up rows in place (see `tinygrad_nd.nn.functional.embedding`).

    Parameters
    ----------
    num_embeddings : int
        Number of rows (the largest index + 1).
    embedding_dim : int
        Size of each row.
    padding_idx : int, optional
        A row that starts at zero and gets no gradient.
    max_norm : float, optional
        Looked-up rows with a larger `norm_type` norm are rescaled to it, in place.
    norm_type : float
        The norm's order for `max_norm`.
    scale_grad_by_freq, sparse : bool
        PyTorch's options, not supported here: True raises a ValueError.
    _weight : array or Tensor, optional
        Initial rows, (num_embeddings, embedding_dim), instead of N(0, 1) samples (used by
        `from_pretrained`).
    _freeze : bool
        Make the weight not require gradients (used by `from_pretrained`).
    generator : Generator, optional
        The source of the initial values (default: the default generator).
    dtype : float dtype, optional
        Of the weight (default: the default float dtype).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(tg.Tensor([[0, 4], [9, 0]], dtype="int64")).shape, emb.weight[0].tolist()
    ((2, 2, 3), [0.0, 0.0, 0.0])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Any = None, _freeze: bool = False,
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__()
        dtype = dtypes.check_float_dtype(dtype, "Embedding")
        self.num_embeddings = _int_at_least(num_embeddings, "num_embeddings", "Embedding", 0)
        self.embedding_dim = _int_at_least(embedding_dim, "embedding_dim", "Embedding", 0)
        if padding_idx is not None:
            _int_at_least(padding_idx, "padding_idx", "Embedding", -num_embeddings)
            if padding_idx >= num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings="
                                 f"{num_embeddings}, got {padding_idx}")
            padding_idx %= num_embeddings
        if scale_grad_by_freq or sparse:
            raise ValueError("Embedding: scale_grad_by_freq and sparse are not supported")
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        if _weight is None:
            values = factories.rng_of(generator).standard_normal((num_embeddings, embedding_dim))
            if padding_idx is not None:
                values[padding_idx] = 0.0
        else:
            values = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if values.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {values.shape} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
        self.weight = Parameter(np.asarray(values, dtype=dtype), requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding the 2-d `embeddings` (frozen unless `freeze=False`).

        Parameters
        ----------
        embeddings : array or Tensor
            The rows, (num_embeddings, embedding_dim).
        freeze : bool
            Whether the weight stays fixed in training (no gradient).
        padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse
            As in `Embedding`.
        """
        values = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if values.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected 2-d embeddings, got shape "
                             f"{values.shape}")
        return cls(values.shape[0], values.shape[1], padding_idx, max_norm, norm_type,
                   scale_grad_by_freq, sparse, _weight=values, _freeze=freeze,
                   dtype=values.dtype if values.dtype.kind == "f" else None)

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


# BatchNorm1d/2d live in normalization.py with the other normalisation layers; importable from
# here as before (this import comes last: normalization.py uses _check_bool from this module).
from .normalization import BatchNorm1d, BatchNorm2d  # noqa: E402,F401
