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
    """Return the dtype given to new floating-point tensors (`float32` unless changed)."""
    return _default_float


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the dtype of new floating-point tensors, e.g. `np.float64` for gradient checks.

    Parameters
    ----------
    dtype : numpy dtype
        A floating-point dtype (float32 at start-up).

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


SUPPORTED = "bool, int8-int64, uint8-uint64 and float16/float32/float64"


def check_dtype(dtype: DTypeLike, where: str) -> np.dtype:
    """Return `np.dtype(dtype)`, or raise a TypeError naming `where` for unsupported kinds.

    tinygrad_nd holds bool, signed/unsigned integer and real floating-point values only.
    Complex values would silently lose their imaginary part in ops written for real numbers
    (sigmoid, clip, max ...); object, string, datetime and void arrays have no arithmetic here.

    Parameters
    ----------
    dtype : numpy dtype
        The dtype to check.
    where : str
        The calling function, named in the error.

    Examples
    --------
    >>> import numpy as np
    >>> check_dtype(np.float64, "astype")
    dtype('float64')
    """
    dt = np.dtype(dtype)
    if dt.kind not in "biuf" or dt.itemsize > 8:  # (float128 too: few ops would keep it)
        raise TypeError(f"{where}: dtype {dt} is not supported; tinygrad_nd supports {SUPPORTED} "
                        "(no complex, object, string or datetime values)")
    return dt


def check_float_dtype(dtype: DTypeLike | None, where: str) -> np.dtype:
    """The default float dtype for None, else `dtype` if it is a float one (else TypeError).

    Parameters
    ----------
    dtype : numpy dtype or None
        The dtype asked for.
    where : str
        The calling function, named in the error.
    """
    if dtype is None:
        return _default_float
    dt = check_dtype(dtype, where)
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype= must be a floating-point dtype (float32 by default, "
                        f"float64 on request), got {dt}")
    return dt


def as_array(value: object, dtype: DTypeLike | None = None, where: str = "Tensor") -> np.ndarray:
    """Convert `value` to an ndarray following the package's dtype policy.

    Floats become the default float dtype unless `dtype` says otherwise; integers become
    int64 and booleans stay bool. Values or a `dtype` of any other kind (complex, object,
    strings, datetimes) raise a TypeError naming `where`, even when `dtype` would convert
    them (`["1.5"]` with `dtype=float32` is refused, as PyTorch refuses strings).

    Parameters
    ----------
    value : array-like
        The values.
    dtype : numpy dtype, optional
        The dtype asked for (default: by the policy above).
    where : str
        The calling function, named in the error.
    """
    arr = np.asarray(value)
    check_dtype(arr.dtype, where)
    if dtype is not None:
        # From `value`, not `arr`: numpy then refuses out-of-range Python ints (-1 as uint8).
        return np.asarray(value, dtype=check_dtype(dtype, where))
    kind = arr.dtype.kind
    if kind == "f":
        return arr if arr.dtype == _default_float else arr.astype(_default_float)
    if kind in "iu":
        return arr if arr.dtype == int64 else arr.astype(int64)
    return arr


def is_floating(dtype: np.dtype) -> bool:
    """True for the dtypes that may carry gradients: floating point (and complex, which only
    the complex-step gradient check creates, bypassing the constructors).

    Parameters
    ----------
    dtype : numpy dtype
        The dtype to test.
    """
    return dtype.kind in "fc"
