"""Floating-point defaults and dtype coercion rules shared by tensors and factories."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_default_float = float32


def get_default_dtype() -> np.dtype:
    """Return the dtype given to new floating-point tensors (``float32`` unless changed)."""
    return _default_float


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the dtype of new floating-point tensors, e.g. ``np.float64`` for gradient checks.

    Examples
    --------
    >>> import numpy as np, tinygrad_nd as tg
    >>> tg.set_default_dtype(np.float64); tg.Tensor([1.0]).dtype
    dtype('float64')
    >>> tg.set_default_dtype(np.float32)
    """
    global _default_float
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _default_float = dt


def as_array(value: object, dtype: DTypeLike | None = None) -> np.ndarray:
    """Convert ``value`` to an ndarray following the package's dtype policy.

    Floats become the default float dtype unless ``dtype`` says otherwise; integers become
    int64, booleans stay bool, and complex arrays (used by complex-step checks) are kept.
    """
    if dtype is not None:
        return np.asarray(value, dtype=dtype)
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "f":
        return arr if arr.dtype == _default_float else arr.astype(_default_float)
    if kind in "iu":
        return arr if arr.dtype == int64 else arr.astype(int64)
    if kind in "bc":
        return arr
    raise TypeError(f"Tensor: cannot hold values of dtype {arr.dtype}")


def is_floating(dtype: np.dtype) -> bool:
    """True for the dtypes that may carry gradients (real or complex floating point)."""
    return dtype.kind in "fc"
