"""Matrix products cut into blocks small enough for OpenBLAS's small-matrix kernels.

OpenBLAS (numpy's BLAS in its wheels) computes a product of at most a million multiply-adds
with "small-matrix" kernels that skip the packing of the operands into buffers; above that,
the general kernels pack first. For a wide, thin product, such as a convolution's weights
(16 x 200) times its im2col columns (200 x 4096), packing costs more than the arithmetic:
the same product cut into sixteen blocks of 256 columns, computed by one stacked `np.matmul`,
took half the time on the benchmark machine, and a 64 x 784 batch times a 784 x 100 layer
took two thirds of the time cut into blocks of 8 rows (docs/performance.md has the
measurements). A block holds whole rows or whole columns, so no sum is split; the small
kernels may add a dot product's terms in another order than the general ones, so the last
bits can differ from one uncut call.

Only thin products are cut (one side at most `THIN` long): for squarer ones the general
kernels are as fast. With another BLAS (MKL, Accelerate...), or on a core for which OpenBLAS
has no small-matrix kernels, nothing is cut.
"""

from __future__ import annotations

import functools

import numpy as np

# OpenBLAS's `SMALL_MATRIX_OPT` threshold: products of M*N*K <= 1e6 take the small kernels
# (measured: a block of 998,400 multiply-adds ran in 0.6x the time of one of 1,024,000).
SMALL_GEMM_WORK = 1_000_000
THIN = 128       # products whose shorter output side is longer than this are left whole
MIN_ROWS = 8     # thinner row blocks, or
MIN_COLUMNS = 32  # narrower column blocks, cost more in calls than the packing they save


# OpenBLAS builds its small-matrix GEMM kernels for AVX-512 cores (measured on SkylakeX);
# on other cores (Haswell, Zen...) it has none, and nothing is cut.
SMALL_KERNEL_CORES = ("skylakex", "cooperlake", "sapphirerapids")
CUT_PRODUCTS: bool | None = None  # decided on first use by `cutting_products`


def cutting_products() -> bool:
    """Whether numpy's BLAS is OpenBLAS running on a core with small-matrix kernels (asked of
    threadpoolctl once, on the first big product)."""
    global CUT_PRODUCTS
    if CUT_PRODUCTS is None:
        from threadpoolctl import threadpool_info

        CUT_PRODUCTS = any(
            info.get("internal_api") == "openblas"
            and str(info.get("architecture", "")).lower() in SMALL_KERNEL_CORES
            for info in threadpool_info())
    return CUT_PRODUCTS


def _fewest_blocks(length: int, widest: int, narrowest: int) -> int:
    """The fewest equal blocks, each `narrowest` to `widest` long, that `length` divides
    into; 1 if none."""
    for blocks in range(max(2, -(-length // max(widest, 1))), length // narrowest + 1):
        if length % blocks == 0:
            return blocks
    return 1


@functools.lru_cache(maxsize=256)
def cut(m: int, k: int, n: int) -> tuple[str, int]:
    """How to cut the product of an (m, k) and a (k, n) matrix: `("rows", blocks)` of the
    left operand, `("columns", blocks)` of the right one, or `("", 1)` (not at all). Rows are
    preferred (blocks of at least `MIN_ROWS`), then columns (at least `MIN_COLUMNS`); each
    block takes at most `SMALL_GEMM_WORK` multiply-adds.

    Parameters
    ----------
    m, k, n : int
        The product's sizes.

    Examples
    --------
    >>> cut(16, 200, 4096) if cutting_products() else ("columns", 16)
    ('columns', 16)
    >>> cut(64, 784, 100) if cutting_products() else ("rows", 8)
    ('rows', 8)
    """
    if m * k * n <= SMALL_GEMM_WORK or min(m, n) > THIN or not cutting_products():
        return "", 1
    blocks = _fewest_blocks(m, SMALL_GEMM_WORK // (k * n), MIN_ROWS)
    if blocks > 1:
        return "rows", blocks
    blocks = _fewest_blocks(n, SMALL_GEMM_WORK // (m * k), MIN_COLUMNS)
    return ("columns", blocks) if blocks > 1 else ("", 1)


def _split_axis(a: np.ndarray, axis: int, blocks: int) -> np.ndarray:
    """View of `a` with `axis` (negative) split into (blocks, length // blocks) and the
    blocks moved in front of the last two axes: splitting one axis never copies."""
    shape = a.shape[:axis] + (blocks, a.shape[axis] // blocks) + (a.shape[axis + 1:]
                                                                  if axis != -1 else ())
    return np.moveaxis(a.reshape(shape), axis - 1, -3)


def matmul_in_blocks(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None
                     ) -> np.ndarray:
    """`np.matmul(a, b, out=out)`, cut by `cut` into blocks computed by one stacked call.

    Parameters
    ----------
    a : ndarray, shape (..., M, K)
        The left operands.
    b : ndarray, shape (..., K, N)
        The right operands.
    out : ndarray, shape (..., M, N), optional
        Where the product goes; the product is cut only if it is C-contiguous (reshaping it
        must give a view). A new array when None.

    Examples
    --------
    >>> a, b = np.ones((2, 3)), np.ones((3, 4))
    >>> matmul_in_blocks(a, b)[0]
    array([3., 3., 3., 3.])
    """
    if a.ndim < 2 or b.ndim < 2:  # (a vector: nothing to cut)
        return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)
    (m, k), n = a.shape[-2:], b.shape[-1]
    if m * k * n <= SMALL_GEMM_WORK:  # (most products of small nets: checked first, inline)
        return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)
    how, blocks = cut(m, k, n)
    if out is None:
        if blocks == 1:
            return np.matmul(a, b)
        stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = np.empty(stack + (m, n), dtype=np.result_type(a, b))
    if blocks == 1 or not out.flags.c_contiguous:
        return np.matmul(a, b, out=out)
    if how == "rows":
        np.matmul(_split_axis(a, -2, blocks), b[..., None, :, :],
                  out=_split_axis(out, -2, blocks))
    else:
        np.matmul(a[..., None, :, :], _split_axis(b, -1, blocks),
                  out=_split_axis(out, -1, blocks))
    return out
