"""The benchmark workloads in JAX, each training step compiled whole by ``jax.jit`` (the
reference for ``tg.jit``): same initial weights, batches and learning rates as
:mod:`benchmarks.workloads`. Optional: only used when ``jax`` is installed (CPU is enough)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .workloads import Runner, cnn_params, mlp_params


def available(threads: int = 1) -> bool:
    """Whether JAX can be imported; ``threads=1`` first turns off the multi-threaded Eigen
    of XLA's CPU backend (numpy's BLAS and PyTorch run at one thread in these benchmarks
    too), 0 leaves XLA's default. Only effective before JAX is first imported."""
    if threads == 1 and "jax" not in sys.modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _sgd_epoch(step: Callable[..., Any], params: Any, x: np.ndarray, y: np.ndarray,
               batch: int) -> float:
    """Call the compiled ``step(params, xb, yb) -> (params, loss)`` over one pass of x."""
    loss = None
    for s in range(0, len(x) - batch + 1, batch):
        params, loss = step(params, x[s:s + batch], y[s:s + batch])
    return float(loss)


def _cross_entropy(logits: Any, y: Any) -> Any:
    import jax
    import jax.numpy as jnp

    logp = jax.nn.log_softmax(logits, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def _sgd_step(loss_fn: Callable[..., Any], lr: float) -> Callable[..., Any]:
    import jax

    @jax.jit
    def step(params: Any, xb: Any, yb: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), loss
    return step


def jax_mlp(sizes: list[int], act: str, batch: int, lr: float) -> Runner:
    import jax
    import jax.numpy as jnp

    def loss_fn(params: Any, xb: Any, yb: Any) -> Any:
        a = xb
        for k, (w, b) in enumerate(params):
            a = a @ w.T + b
            if k < len(params) - 1:
                a = jax.nn.sigmoid(a) if act == "sigmoid" else jnp.maximum(a, 0)
        return _cross_entropy(a, yb)

    step = _sgd_step(loss_fn, lr)

    def run(x: np.ndarray, y: np.ndarray) -> float:
        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in mlp_params(sizes)]
        return _sgd_epoch(step, params, x, y, batch)
    return run


def jax_cnn(batch: int, lr: float) -> Runner:
    import jax
    import jax.numpy as jnp

    def conv(x: Any, w: Any, b: Any) -> Any:
        out = jax.lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                           dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return out + b[None, :, None, None]

    def pool(x: Any) -> Any:
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                     "VALID")

    def loss_fn(params: Any, xb: Any, yb: Any) -> Any:
        w1, b1, w2, b2, w3, b3 = params
        a = pool(jnp.maximum(conv(xb, w1, b1), 0))
        a = pool(jnp.maximum(conv(a, w2, b2), 0))
        return _cross_entropy(a.reshape(a.shape[0], -1) @ w3.T + b3, yb)

    step = _sgd_step(loss_fn, lr)

    def run(x: np.ndarray, y: np.ndarray) -> float:
        params = [jnp.asarray(p) for p in cnn_params()]
        return _sgd_epoch(step, params, x.reshape(-1, 1, 28, 28), y, batch)
    return run


def jax_tiny_graph(iterations: int) -> Callable[[], float]:
    """fwd+bwd of sigmoid(x @ w).sum() for 2x2 matrices, each iteration one compiled call."""
    import jax
    import jax.numpy as jnp

    x0 = jnp.asarray(np.array([[0.5, -1.0], [2.0, 0.1]], np.float32))
    w0 = jnp.asarray(np.array([[0.3, 0.2], [-0.4, 1.0]], np.float32))
    grad = jax.jit(jax.grad(lambda w, x: jax.nn.sigmoid(x @ w).sum()))

    def run() -> float:
        g = None
        for _ in range(iterations):
            g = grad(w0, x0)
        return float(g.sum())
    return run
