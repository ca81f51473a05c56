"""Norms of plain arrays for reports and drawings: float64, no graph, one definition."""

from __future__ import annotations

from typing import Any

import numpy as np


def l2_norm(a: Any) -> float:
    """Euclidean norm of an array (or Tensor) in float64, so float32 gradients of 1e-20 or
    1e20 neither underflow nor overflow when squared.

    Examples
    --------
    >>> l2_norm(np.array([3.0, 4.0], dtype=np.float32))
    5.0
    """
    a = np.asarray(a, dtype=np.float64)
    return float(np.sqrt(np.vdot(a, a).real)) if a.size else 0.0


def vector_norm(a: Any, norm: str = "l2") -> float:
    """L2 (default) or L1 norm of an array, in float64."""
    if norm == "l1":
        return float(np.abs(np.asarray(a, dtype=np.float64)).sum())
    return l2_norm(a)
