"""Run the benchmark suite: tinygrad_nd (eager and compiled by ``tg.jit``) next to hand-written
numpy, PyTorch and JAX's jit (when installed), interleaved in one process, printing medians and
ratios, the achieved GFLOP/s against numpy's measured GEMM peak, and peak memory where
tracemalloc can see it.

    python -m benchmarks              # one epoch of Fashion-MNIST (or the embedded digits)
    python -m benchmarks --quick      # a smoke run on 2,000 images (what CI runs)
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_nd as tg
from tinygrad_nd import data

from . import jax_workloads as J
from . import workloads as W

# "torch" is PyTorch at its default thread count (what a user gets: one per core), the
# headline; "torch1" the same code pinned to one thread, beside it.
COLUMNS = ("tinygrad_nd", "jit", "numpy", "torch", "torch1", "jax")
RATIOS = (("tinygrad_nd", "torch"), ("tinygrad_nd", "torch1"), ("tinygrad_nd", "numpy"),
          ("jit", "numpy"), ("jit", "jax"))


def torch_at(threads: int, fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run with PyTorch at ``threads`` threads, its own setting restored after."""
    import torch

    def run(*args: Any) -> Any:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return fn(*args)
        finally:
            torch.set_num_threads(before)
    return run


def with_torch(impls: dict[str, Callable[..., Any]], fn: Callable[..., Any],
               have_torch: bool) -> dict[str, Callable[..., Any]]:
    """``impls`` plus PyTorch's ``fn`` at its default threads and at one thread."""
    if have_torch:
        impls["torch"], impls["torch1"] = fn, torch_at(1, fn)
    return impls


def load(n: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        train, _ = data.fashion_mnist()
        label = "Fashion-MNIST"
    except FileNotFoundError:
        train, _ = data.mnist_5k(split=(5000, 0))
        label = "embedded digits (repeated)"
    x, y = train.arrays
    if n is not None and n > len(x):
        x, y = np.tile(x, (n // len(x) + 1, 1))[:n], np.tile(y, n // len(y) + 1)[:n]
    return np.ascontiguousarray(x[:n]), y[:n], label


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_memory(fn: Callable[[], Any]) -> float:
    """Peak bytes allocated through Python/numpy while ``fn`` runs (MiB)."""
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def gemm_peak(n: int = 1024, repeats: int = 5) -> float:
    """numpy's float32 matrix-multiply speed (GFLOP/s, best of ``repeats``): the ceiling the
    workloads' GFLOP/s column is measured against."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    a @ b
    return 2 * n**3 / min(timed(lambda: a @ b) for _ in range(repeats)) / 1e9


def mlp_flops(sizes: list[int], samples: int) -> float:
    """Multiply-adds x 2 of the GEMMs of one pass: forward, weight gradient, and input
    gradient for every layer but the first (the data needs none)."""
    return samples * (sum(6 * i * o for i, o in zip(sizes[:-1], sizes[1:]))
                      - 2 * sizes[0] * sizes[1])


def cnn_flops(samples: int) -> float:
    """The CNN's convolutions (forward, weight and input gradients; none for the data) and
    its final linear layer, as counted by :func:`mlp_flops`."""
    conv1 = 2 * 8 * 24 * 24 * 1 * 5 * 5   # per image: out channels x positions x C x k x k
    conv2 = 2 * 16 * 8 * 8 * 8 * 5 * 5
    return samples * (2 * conv1 + 3 * conv2 + 6 * 256 * 10)


def compare(name: str, impls: dict[str, Callable[[], Any]], repeats: int,
            memory: dict[str, Callable[[], Any]] | None = None,
            flops: float | None = None, peak: float | None = None) -> list[str]:
    """Interleave the implementations ``repeats`` times; one table row with medians/ratios
    (and, given the FLOPs of one run, the fastest tinygrad_nd's GFLOP/s and its share of the
    GEMM ``peak``). Each runs once untimed first (imports, caches, allocator warm-up)."""
    for fn in (memory or {}).values():
        fn()
    if repeats < 3:  # too few runs for a median to hide first-call costs: warm up fully
        for fn in impls.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in impls}
    for _ in range(repeats):
        for key, fn in impls.items():
            times[key].append(timed(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    cells = [name] + [f"{med[k]:.3f} s" if k in med else "-" for k in COLUMNS]
    cells += [f"{med[a] / med[b]:.2f}x" if a in med and b in med else "-" for a, b in RATIOS]
    if flops and peak:
        fastest = med.get("jit", med["tinygrad_nd"])
        cells.append(f"{flops / fastest / 1e9:.2f} ({100 * flops / fastest / 1e9 / peak:.1f}%)")
    else:
        cells.append("-")
    if memory:
        cells.append(" / ".join(f"{peak_memory(fn):.1f}" for fn in memory.values()))
    else:
        cells.append("-")
    return cells


def _chain(n: int) -> tg.Tensor:
    x = tg.Tensor(np.ones(16, np.float32), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y.sum()


def chain_benchmark(n: int) -> list[str]:
    """Backward through an n-op chain: time (untraced), then peak memory and what stays
    allocated after the graph is dropped (traced by tracemalloc, in a second run)."""
    loss = _chain(n)
    gc.collect()
    start = time.perf_counter()
    loss.backward()
    elapsed = time.perf_counter() - start
    del loss
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss = _chain(n)
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1] - base
    del loss
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return [f"{n:,}-op chain backward", f"{elapsed:.3f} s", f"peak {peak / 2**20:.1f} MiB "
            "(graph + backward)", f"left after del: {after / 2**10:.0f} KiB"]


def conv_benchmarks(repeats: int, have_torch: bool) -> list[list[str]]:
    rows = []
    cases = [  # function, x shape, w shape, keyword arguments
        ("conv2d", (64, 1, 28, 28), (8, 1, 5, 5), {}),
        ("conv2d", (64, 8, 12, 12), (16, 8, 5, 5), {}),
        ("conv2d", (32, 16, 32, 32), (32, 16, 3, 3), {"padding": 1}),
        ("conv1d", (64, 16, 128), (32, 16, 5), {"padding": 2}),
        ("conv3d", (8, 4, 16, 16, 16), (8, 4, 3, 3, 3), {"padding": 1}),
        ("conv_transpose2d", (32, 16, 16, 16), (16, 8, 4, 4), {"stride": 2, "padding": 1}),
    ]
    rng = np.random.default_rng(0)
    for fn, xs, ws, kwargs in cases:
        x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(
            np.float32)
        impls = with_torch({"tinygrad_nd": lambda a=(fn, x, w, kwargs): _ours_conv(*a)},
                           lambda a=(fn, x, w, kwargs): _torch_conv(*a), have_torch)
        settings = "".join(f" {k[0]}{v}" for k, v in kwargs.items())
        rows.append(compare(f"{fn} {xs}*{ws[:2]}k{ws[2]}{settings} fwd+bwd x20", impls,
                            repeats))
    for xs in [(64, 8, 24, 24), (32, 32, 32, 32)]:
        x = rng.standard_normal(xs).astype(np.float32)
        impls = with_torch({"tinygrad_nd": lambda x=x: _ours_pool(x)},
                           lambda x=x: _torch_pool(x), have_torch)
        rows.append(compare(f"max_pool2d {xs} 2x2 fwd+bwd x20", impls, repeats))
    return rows


def _ours_conv(fn, x, w, kwargs):
    conv = getattr(tg.nn.functional, fn)
    for _ in range(20):
        tx, tw = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
        conv(tx, tw, **kwargs).sum().backward()


def _torch_conv(fn, x, w, kwargs):
    import torch

    conv = getattr(torch.nn.functional, fn)
    for _ in range(20):
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        conv(tx, tw, **kwargs).sum().backward()


def _ours_pool(x):
    for _ in range(20):
        tx = tg.Tensor(x, requires_grad=True)
        tg.max_pool2d(tx, 2).sum().backward()


def _torch_pool(x):
    import torch

    for _ in range(20):
        tx = torch.tensor(x, requires_grad=True)
        torch.nn.functional.max_pool2d(tx, 2).sum().backward()


def flat_memory(steps: int) -> list[str]:
    """tracemalloc's current size during a long training loop: it should stay flat."""
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(64, 32), tg.nn.Sigmoid(), tg.nn.Linear(32, 10))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    x, y = tg.randn(16, 64), np.arange(16) % 10
    samples = []
    tracemalloc.start()
    for step in range(1, steps + 1):
        loss = tg.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in (steps // 10, steps):
            samples.append(tracemalloc.get_traced_memory()[0] / 2**10)
    tracemalloc.stop()
    return [f"{steps:,} training steps", f"memory at {steps // 10:,}: {samples[0]:.0f} KiB",
            f"at {steps:,}: {samples[1]:.0f} KiB"]


def viz_benchmark() -> list[str]:
    from tinygrad_nd import viz

    x = tg.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    return ["viz.to_dot, 10,000 ops", f"{timed(lambda: viz.to_dot(y)):.3f} s"]


def blas_thread_benchmark(x: np.ndarray, y: np.ndarray, repeats: int) -> list[str]:
    """(a), (b) and (c) in tinygrad_nd at one BLAS thread (tinygrad_nd's policy, see
    tinygrad_nd/threads.py) and at BLAS's own default (one thread per core), interleaved: the
    effect of the policy on this machine now (it grows with the machine's other load)."""
    cores = os.cpu_count() or 1
    lines = [f"BLAS threads (load average {os.getloadavg()[0]:.1f} on {cores} cores): time at "
             f"{cores} threads / time at 1 thread"]
    for name, run in (("(a)", W.ours_mlp([784, 30, 30, 10], "sigmoid", 10, 0.1)),
                      ("(b)", W.ours_mlp([784, 100, 100, 10], "relu", 64, 0.05)),
                      ("(c)", W.ours_cnn(64, 0.05))):
        times: dict[int, list[float]] = {1: [], cores: []}
        for _ in range(repeats):
            for threads in times:
                with tg.blas_threads(threads):
                    times[threads].append(timed(lambda r=run: r(x, y)))
        one, many = (float(np.median(times[t])) for t in (1, cores))
        lines.append(f"  {name} {many / one:.2f}x  ({one:.3f} s at 1, {many:.3f} s at {cores})")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=None,
                        help="images per epoch (default 60,000; 2,000 with --quick)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="PyTorch's threads in the torch column (default: its own, one per "
                        "core); the torch1 column is always one thread")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX jit column")
    parser.add_argument("--jax-threads", type=int, default=1, choices=(0, 1),
                        help="1: XLA's CPU backend single-threaded, like numpy's BLAS and "
                        "torch here (default); 0: XLA's default threading")
    parser.add_argument("--only", default="abcdkxt",
                        help="letters of the parts to run: a b c d (workloads), k (conv/pool "
                        "kernels), x (chain, memory, viz), t (BLAS threads)")
    args = parser.parse_args(argv)
    n = args.images or (2000 if args.quick else 60_000)
    repeats = 1 if args.quick else args.repeats
    have_torch = not args.no_torch
    if have_torch:
        try:
            import torch

            if args.torch_threads is not None:
                torch.set_num_threads(args.torch_threads)
            torch_threads = torch.get_num_threads()
        except ImportError:
            have_torch = False
    have_jax = not args.no_jax and J.available(args.jax_threads)
    x, y, label = load(n)
    torch_note = (f"{torch_threads} thread(s) (torch1: one)" if have_torch else "absent")
    jax_note = "jit, 1 thread" if args.jax_threads == 1 else "jit, XLA's default threads"
    peak = gemm_peak()
    print(f"data: {len(x):,} images of {label}; medians of {repeats} interleaved runs; "
          f"torch {torch_note}; jax {jax_note if have_jax else 'absent'}; numpy {np.__version__}, "
          f"float32 GEMM peak (1024^3, best of 5) {peak:.1f} GFLOP/s")
    header = ["workload", *COLUMNS, *(f"{a.replace('tinygrad_nd', 'ours')}/{b}"
                                      for a, b in RATIOS),
              "GFLOP/s (% peak)", "peak MiB ours / numpy"]
    rows = []
    mem_n = min(n, 1000)
    for name, (sizes, act, batch, lr) in {
        "(a) MLP 784-30-30-10 sigmoid, batch 10": ([784, 30, 30, 10], "sigmoid", 10, 0.1),
        "(b) MLP 784-100-100-10 relu, batch 64": ([784, 100, 100, 10], "relu", 64, 0.05),
    }.items():
        if name[1] not in args.only:
            continue
        impls = {"tinygrad_nd": W.ours_mlp(sizes, act, batch, lr),
                 "jit": W.ours_mlp(sizes, act, batch, lr, jit=True),
                 "numpy": W.numpy_mlp(sizes, act, batch, lr)}
        if have_torch:
            with_torch(impls, W.torch_mlp(sizes, act, batch, lr), True)
        if have_jax:
            impls["jax"] = J.jax_mlp(sizes, act, batch, lr)
        rows.append(compare(name, {k: (lambda f=f: f(x, y)) for k, f in impls.items()}, repeats,
                            memory={k: (lambda f=f: f(x[:mem_n], y[:mem_n])) for k, f in
                                    impls.items() if k in ("tinygrad_nd", "numpy")},
                            flops=mlp_flops(sizes, len(x) // batch * batch), peak=peak))
    if "c" in args.only:
        cnn = {"tinygrad_nd": W.ours_cnn(64, 0.05), "jit": W.ours_cnn(64, 0.05, jit=True),
               "numpy": W.numpy_cnn(64, 0.05)}
        if have_torch:
            with_torch(cnn, W.torch_cnn(64, 0.05), True)
        if have_jax:
            cnn["jax"] = J.jax_cnn(64, 0.05)
        rows.append(compare("(c) CNN conv8-pool-conv16-pool-linear, batch 64",
                            {k: (lambda f=f: f(x, y)) for k, f in cnn.items()}, repeats,
                            memory={k: (lambda f=f: f(x[:mem_n], y[:mem_n])) for k, f in
                                    cnn.items() if k in ("tinygrad_nd", "numpy")},
                            flops=cnn_flops(len(x) // 64 * 64), peak=peak))
    iters = 2000 if args.quick else 20_000
    if "d" in args.only:
        tiny = with_torch({k: W.tiny_graph(k, iters) for k in ("tinygrad_nd", "jit", "numpy")},
                          W.tiny_graph("torch", iters) if have_torch else None, have_torch)
        if have_jax:
            tiny["jax"] = J.jax_tiny_graph(iters)
        rows.append(compare(f"(d) tiny graph fwd+bwd x{iters:,}", tiny, repeats,
                            flops=32 * iters, peak=peak))
    if "k" in args.only:
        rows += conv_benchmarks(repeats, have_torch)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                        enumerate(zip(r, widths))))
    print()
    if "x" in args.only:
        for extra in (chain_benchmark(100_000), flat_memory(2000 if args.quick else 10_000),
                      viz_benchmark()):
            print("  ".join(extra))
    if "t" in args.only:
        print("\n".join(blas_thread_benchmark(x, y, repeats)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
