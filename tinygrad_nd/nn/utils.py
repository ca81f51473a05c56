"""Gradient clipping and flattening parameters to one vector (`torch.nn.utils`)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .. import autograd
from ..tensor import Tensor


def _params(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _with_grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    return [p for p in _params(parameters) if p.grad is not None]


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    """PyTorch's `vector_norm` of all elements: inf = max |x|, -inf = min |x|, 0 = the
    number of nonzero elements, otherwise `(sum |x|**p)**(1/p)`."""
    size = np.abs(values.astype(np.float64, copy=False))
    if norm_type == float("inf"):
        return float(size.max(initial=0.0))
    if norm_type == float("-inf"):
        return float(size.min(initial=float("inf")))
    if norm_type == 0:
        return float(np.count_nonzero(size))
    with np.errstate(divide="ignore", over="ignore"):  # 0 ** -p = inf, as PyTorch
        return float((size ** norm_type).sum() ** (1.0 / norm_type))


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> float:
    """Scale all gradients together so their joint norm is at most `max_norm`.

    The joint norm is the `norm_type` norm of the per-parameter norms (`inf` for the
    largest element), as PyTorch; it is returned (a float) as it was *before* clipping.
    Gradients are replaced, never changed in place. `foreach` is accepted for PyTorch's
    signature and changes nothing (the result is the same). A negative `max_norm` raises a
    ValueError (PyTorch would flip every gradient's sign); `error_if_nonfinite=True` raises
    a RuntimeError when the norm is nan or inf.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        The parameters (e.g. `model.parameters()`); those without a gradient are skipped.
    max_norm : float
        The largest joint norm allowed.
    norm_type : float
        The norm's order p (`inf` for the largest absolute element).
    error_if_nonfinite : bool
        Raise when the joint norm is nan or inf instead of scaling by it.
    foreach : bool, optional
        Accepted for PyTorch's signature; changes nothing.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> w = tg.ones(4, requires_grad=True); (w * 10).sum().backward()
    >>> nn.utils.clip_grad_norm_([w], 1.0), round(float((w.grad * w.grad).sum().sqrt().item()), 4)
    (20.0, 1.0)
    """
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    params = _with_grads(parameters)
    if not params:
        return 0.0
    norm_type = float(norm_type)
    total = _vector_norm(np.array([_vector_norm(p.grad.data, norm_type) for p in params]),
                         norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}, so they cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for p in params:
            p.grad = Tensor._make((p.grad.data * scale).astype(p.grad.dtype), None)
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach: bool | None = None) -> float:
    """Clamp every gradient element into [-clip_value, clip_value]; returns the largest
    absolute gradient element before clipping. A negative `clip_value` raises a
    ValueError (the interval would be empty). `foreach` is accepted and changes nothing.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        The parameters (e.g. `model.parameters()`); those without a gradient are skipped.
    clip_value : float
        The largest absolute value a gradient element keeps.
    foreach : bool, optional
        Accepted for PyTorch's signature; changes nothing.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> w = tg.ones(2, requires_grad=True); (w * tg.Tensor([3.0, -0.5])).sum().backward()
    >>> nn.utils.clip_grad_value_([w], 1.0), w.grad.tolist()
    (3.0, [1.0, -0.5])
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    params = _with_grads(parameters)
    largest = max((float(np.abs(p.grad.data).max()) for p in params if p.grad.size), default=0.0)
    for p in params:
        p.grad = Tensor._make(np.clip(p.grad.data, -clip_value, clip_value), None)
    return largest


def parameters_to_vector(parameters: Iterable[Tensor] | Tensor) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable, as PyTorch).

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        The parameters, in the order their values are joined.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
    (8,)
    """
    from ..functional import cat

    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: expected at least one parameter")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor] | Tensor) -> None:
    """Copy consecutive slices of the 1-d `vec` into the parameters, in order (the inverse
    of `parameters_to_vector`); the copy is not recorded, as PyTorch.

    Parameters
    ----------
    vec : Tensor
        A 1-d tensor with as many elements as the parameters together.
    parameters : Tensor or iterable of Tensors
        The parameters to overwrite, in order.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> layer = nn.Linear(2, 1)
    >>> nn.utils.vector_to_parameters(tg.Tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector, got shape {vec.shape}")
    params = _params(parameters)
    needed = sum(p.size for p in params)
    if vec.shape[0] != needed:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} elements but the "
                         f"parameters hold {needed}")
    start = 0
    with autograd.no_grad():
        for p in params:
            p.copy_(vec.data[start:start + p.size].reshape(p.shape).astype(p.dtype))
            start += p.size
