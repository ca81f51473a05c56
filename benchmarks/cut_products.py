"""The products tinygrad_nd cuts into blocks (`tinygrad_nd.ops.blocked_gemm`), each timed
whole and cut, one BLAS thread: ``python -m benchmarks.cut_products``.

The shapes are those of the benchmark workloads: the CNN's second convolution (forward and a
weight gradient) and the first layer of the (b) MLP (forward and weight gradient); a square
product shows where nothing is cut. Times are medians of 7 rounds, alternated."""

from __future__ import annotations

import time

import numpy as np

import tinygrad_nd as tg
from tinygrad_nd.ops import blocked_gemm
from tinygrad_nd.ops.blocked_gemm import cut, matmul_in_blocks

SHAPES = [  # (what, M, K, N, which operands are transposed views, as the ops pass them)
    ("CNN conv2 forward: weights x im2col columns", 16, 200, 4096, ""),
    ("CNN conv1 as one GEMM: weights x columns", 8, 25, 36864, ""),
    ("(b) layer 1 forward: batch x weights^T", 64, 784, 100, "b"),
    ("(b) layer 1 weight gradient: g^T x batch", 100, 64, 784, "a"),
    ("square: left whole", 256, 256, 256, ""),
]


def _operand(rng: np.random.Generator, rows: int, cols: int, transposed: bool) -> np.ndarray:
    if transposed:  # the transpose of a C-contiguous array, e.g. `w.T` or `g.T`
        return rng.standard_normal((cols, rows)).astype(np.float32).T
    return rng.standard_normal((rows, cols)).astype(np.float32)


def _medians_ms(fns, calls: int) -> list[float]:
    """Median time per call of each function, over 7 rounds that alternate them."""
    for fn in fns:
        fn()
    rounds = [[_timed(fn, calls) for fn in fns] for _ in range(7)]
    return [1e3 * float(np.median(times)) for times in zip(*rounds)]


def _timed(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> None:
    tg.set_blas_threads(1)
    rng = np.random.default_rng(0)
    print(f"OpenBLAS with small-matrix kernels: {blocked_gemm.cutting_products()} "
          "(nothing is cut otherwise)")
    print(f"{'product':46s} {'M x K x N':>16s} {'cut':>12s} {'whole ms':>9s} {'cut ms':>8s} "
          f"{'ratio':>6s}")
    for what, m, k, n, transposed in SHAPES:
        a, b = _operand(rng, m, k, "a" in transposed), _operand(rng, k, n, "b" in transposed)
        out = np.empty((m, n), np.float32)
        calls = max(1, int(2e7 // (m * k * n)))
        whole, blocks = _medians_ms([lambda a=a, b=b, out=out: np.matmul(a, b, out=out),
                                     lambda a=a, b=b, out=out: matmul_in_blocks(a, b, out=out)],
                                    calls)
        how, count = cut(m, k, n)
        print(f"{what:46s} {f'{m}x{k}x{n}':>16s} {f'{count} {how}' if how else '-':>12s} "
              f"{whole:9.3f} {blocks:8.3f} {blocks / whole:5.2f}x")


if __name__ == "__main__":
    main()
