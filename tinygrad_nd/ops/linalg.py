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


def _check_square(name: str, a: np.ndarray, what: str = "input") -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: {what} must be a square matrix or a batch of them (..., n, n), "
                         f"got shape {a.shape}")
    if a.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {a.dtype}")


def _linalg_call(name: str, fn, *arrays: np.ndarray) -> np.ndarray:
    """Run a numpy.linalg routine, naming the op in its error (singular matrix, not positive
    definite): numpy's LinAlgError is a ValueError, as is PyTorch's torch.linalg.LinAlgError's
    meaning here."""
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as e:
        shapes = " and ".join(str(a.shape) for a in arrays)
        raise np.linalg.LinAlgError(f"{name}: {e} (shape {shapes})") from None


def _matrix_forward(ctx, fn, x: np.ndarray) -> np.ndarray:
    """The forward of a one-matrix op: check the input is square, save it, run `fn`."""
    name = ctx.function.op_name
    _check_square(name, x)
    ctx.save_for_backward(x)
    return _linalg_call(name, fn, x)


def _unsqueeze2(x):
    """Append two size-1 axes: a per-matrix scalar against a batch of matrices."""
    return x.reshape(x.shape + (1, 1))


@register_op("inv", nin=1, shape_rule="square_matrix", reference=np.linalg.inv)
class Inv(Function):
    """Y = X^-1;  dL/dX = -Y^T g Y^T"""

    @staticmethod
    def forward(ctx, x):
        return _matrix_forward(ctx, np.linalg.inv, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        yt = swap_last(Inv.apply(x))
        return (-(yt @ g @ yt),)


# Above this condition number det's gradient is taken from cofactors instead of det X^-T.
_SINGULAR_COND = 1e8


def _cofactors(x):
    """The cofactor matrix C_ij = (-1)^(i+j) det(X without row i and column j): the gradient
    of det, defined (and exact) for singular matrices too. Built from n^2 minors gathered at
    once and their determinants, so it is differentiable again."""
    n = x.shape[-1]
    if n == 1:
        return np.ones(x.shape, dtype=x.dtype)
    others = np.array([[k for k in range(n) if k != i] for i in range(n)])
    rows = others.reshape(n, 1, n - 1, 1)
    cols = others.reshape(1, n, 1, n - 1)
    minors = x[..., rows, cols]  # (..., n, n, n-1, n-1)
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return Det.apply(minors) * signs.astype(x.dtype)


@register_op("det", nin=1, shape_rule="square_matrix", reference=np.linalg.det)
class Det(Function):
    """z = det X;  dz/dX = cof(X) = det(X) X^-T (from cofactors where X is near singular)"""

    @staticmethod
    def forward(ctx, x):
        return _matrix_forward(ctx, np.linalg.det, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        values = np.asarray(x)
        if values.size and np.max(np.linalg.cond(values)) > _SINGULAR_COND:
            return (_unsqueeze2(g) * _cofactors(x),)
        return (_unsqueeze2(g * Det.apply(x)) * swap_last(Inv.apply(x)),)


@register_op("solve", nin=2, shape_rule="solve", reference=np.linalg.solve)
class Solve(Function):
    """X = A^-1 B;  dL/dB = A^-T g,  dL/dA = -(A^-T g) X^T"""

    @staticmethod
    def forward(ctx, a, b):
        _check_square("solve", a, "A")
        if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
            raise ValueError(f"solve: B must be (..., {a.shape[-1]}, k) for A of shape "
                             f"{a.shape}, got shape {b.shape}")
        ctx.save_for_backward(a, b)
        return _linalg_call("solve", np.linalg.solve, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = Solve.apply(swap_last(a), g)
        ga = -(gb @ swap_last(Solve.apply(a, b))) if ctx.needs_input_grad[0] else None
        return ga, gb


@register_op("cholesky", nin=1, shape_rule="spd_matrix",
             reference=lambda a: np.linalg.cholesky((a + swap_last(a)) / 2))
class Cholesky(Function):
    """L = chol((A + A^T)/2);  dL/dA = L^-T sym(Φ(L^T g)) L^-1, Φ = lower triangle"""

    @staticmethod
    def forward(ctx, a):
        # Only the symmetric part is read (numpy reads the lower triangle): with it the
        # gradient is symmetric, PyTorch's, and also what finite differences of A see.
        return _matrix_forward(ctx, lambda m: np.linalg.cholesky((m + swap_last(m)) / 2), a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        low = Cholesky.apply(a)
        n = low.shape[-1]
        lower = np.tril(np.ones((n, n), dtype=low.dtype))
        t = (swap_last(low) @ g) * lower
        # sym(Φ(T)): the lower triangle mirrored, its diagonal halved, all times 1/2.
        middle = (t + swap_last(t * np.tril(lower, -1))) * 0.5
        left = Solve.apply(swap_last(low), middle)  # L^-T M
        return (swap_last(Solve.apply(swap_last(low), swap_last(left))),)  # (L^-T (L^-T M)^T)^T
