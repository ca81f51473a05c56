"""Matrix multiplication with numpy's rules for 1-D and batched operands."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ._util import swap_last


def _check_matmul_shapes(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and "
                         f"{b.shape}; use * for scalars")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{a.shape[-1]} (last dim of the first) != {inner_b} "
                         f"({'first' if b.ndim == 1 else 'second-to-last'} dim of the second)")
    if a.ndim > 2 and b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dims of {a.shape} and {b.shape} do not "
                             "broadcast") from None


@register_op("matmul", nin=2, shape_rule="matmul", reference=np.matmul)
class MatMul(Function):
    """z = a @ b;  dz/da = g @ b^T,  dz/db = a^T @ g (1-D operands promoted, then squeezed)"""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            _check_matmul_shapes(a, b)
        try:
            out = np.matmul(a, b)
        except ValueError:
            _check_matmul_shapes(a, b)  # a message that names the mismatched dims
            raise
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the common case, no reshaping
            return (g @ b.T if need_a else None), (a.T @ g if need_b else None)
        return _matmul_vjp(a, b, g, need_a, need_b)


def _matmul_vjp(a, b, g, need_a, need_b):
    """(g @ b^T, a^T @ g) with 1-D operands promoted and squeezed back."""
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a.ndim == 1 else g
    g2 = g2.reshape(g2.shape + (1,)) if b.ndim == 1 else g2
    ga = gb = None
    if need_a:
        ga = g2 @ swap_last(b2)
        ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:]) if a.ndim == 1 else ga
    if need_b:
        gb = swap_last(a2) @ g2
        gb = gb.reshape(gb.shape[:-1]) if b.ndim == 1 else gb
    return ga, gb
