"""Products cut into blocks for OpenBLAS's small-matrix kernels (`ops.blocked_gemm`): the
same product as `np.matmul`, whichever way it is cut, and left whole where it should be."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nd.ops import blocked_gemm
from tinygrad_nd.ops.blocked_gemm import SMALL_GEMM_WORK, cut, matmul_in_blocks


@pytest.fixture
def cutting(monkeypatch):
    """Cut products as with OpenBLAS, whatever BLAS numpy has here."""
    monkeypatch.setattr(blocked_gemm, "CUT_PRODUCTS", True)
    cut.cache_clear()
    yield
    cut.cache_clear()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n, how", [
    (16, 200, 4096, "columns"),   # a convolution's weights times its im2col columns
    (64, 784, 100, "rows"),       # a batch through a wide layer
    (100, 64, 784, "rows"),       # that layer's weight gradient
    (10, 784, 30, ""),            # small: one call
    (256, 256, 256, ""),          # square: the general kernels are as fast
    (7, 1_000_003, 1, ""),        # too few rows and columns to cut
    (1021, 1000, 17, ""),         # (rows a prime: no block count divides them)
])
def test_every_cut_gives_the_product(cutting, dtype, m, k, n, how):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    assert cut(m, k, n)[0] == how
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(matmul_in_blocks(a, b), a @ b, rtol=tol, atol=tol * np.sqrt(k))
    # transposed operands (as the backward passes them), stacked ones, and `out=`
    out = np.empty((2, m, n), dtype)
    a_t = np.ascontiguousarray(a.T).T
    result = matmul_in_blocks(np.stack([a_t, 2 * a_t]), b, out=out)
    assert result is out
    np.testing.assert_allclose(out[1], 2 * (a @ b), rtol=tol, atol=tol * np.sqrt(k))


def test_a_cut_block_stays_within_the_small_kernels_and_keeps_whole_rows(cutting):
    for m, k, n in [(16, 200, 4096), (64, 784, 100), (8, 25, 36864), (32, 200, 4096)]:
        how, blocks = cut(m, k, n)
        assert blocks > 1
        rows, cols = (m // blocks, n) if how == "rows" else (m, n // blocks)
        assert (m if how == "rows" else n) % blocks == 0
        assert rows * k * cols <= SMALL_GEMM_WORK


def test_nothing_is_cut_without_openblas_or_into_a_strided_output(monkeypatch):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((16, 200)), rng.standard_normal((200, 4096))
    monkeypatch.setattr(blocked_gemm, "CUT_PRODUCTS", False)
    cut.cache_clear()
    assert cut(16, 200, 4096) == ("", 1)
    assert np.array_equal(matmul_in_blocks(a, b), np.matmul(a, b))
    monkeypatch.setattr(blocked_gemm, "CUT_PRODUCTS", True)
    cut.cache_clear()
    strided = np.empty((16, 8192))[:, ::2]  # reshaping it would copy: the product stays whole
    matmul_in_blocks(a, b, out=strided)
    assert np.array_equal(strided, np.matmul(a, b))
    cut.cache_clear()
