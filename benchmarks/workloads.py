"""The benchmark workloads, each in three implementations: tinygrad_nd (eager, or compiled
with ``tg.jit``), hand-written numpy backprop, and PyTorch (JAX's are in
:mod:`benchmarks.jax_workloads`). Every function trains for one pass over ``x`` and returns
the final loss, so runs can be checked against each other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_nd as tg
from tinygrad_nd import nn, optim

Runner = Callable[[np.ndarray, np.ndarray], float]


# ---- (a)/(b): MLPs ----------------------------------------------------------------------
def mlp_params(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shared float32 initial weights (out, in) and biases, N(0, 1/n_in)."""
    rng = np.random.default_rng(seed)
    return [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32),
             np.zeros(o, np.float32)) for i, o in zip(sizes[:-1], sizes[1:])]


def ours_mlp(sizes: list[int], act: str, batch: int, lr: float, jit: bool = False) -> Runner:
    def run(x: np.ndarray, y: np.ndarray) -> float:
        layers: list[nn.Module] = []
        for k, (w, b) in enumerate(mlp_params(sizes)):
            lin = nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data[...], lin.bias.data[...] = w, b
            layers.append(lin)
            if k < len(sizes) - 2:
                layers.append(nn.Sigmoid() if act == "sigmoid" else nn.ReLU())
        return train_ours(nn.Sequential(*layers), x, y, batch, lr, jit)
    return run


def train_ours(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int, lr: float,
               jit: bool = False) -> float:
    """One pass of plain SGD in tinygrad_nd (the step compiled by ``tg.jit`` if ``jit``);
    returns the last loss."""
    opt = optim.SGD(model.parameters(), lr=lr)

    def step(xb: np.ndarray, yb: np.ndarray) -> tg.Tensor:
        loss = nn.functional.cross_entropy(model(tg.Tensor(xb)), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = tg.jit(step) if jit else step
    loss = None
    for s in range(0, len(x) - batch + 1, batch):
        loss = run(x[s:s + batch], y[s:s + batch])
    return float(loss.item())


def train_torch(model: Any, x: np.ndarray, y: np.ndarray, batch: int, lr: float) -> float:
    """The same pass in PyTorch."""
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss = None
    for s in range(0, len(x) - batch + 1, batch):
        loss = torch.nn.functional.cross_entropy(model(xt[s:s + batch]), yt[s:s + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.item())


def numpy_mlp(sizes: list[int], act: str, batch: int, lr: float) -> Runner:
    """Vectorised backprop written by hand: the floor for any numpy autograd."""
    def run(x: np.ndarray, y: np.ndarray) -> float:
        params = [(w.copy(), b.copy()) for w, b in mlp_params(sizes)]
        loss = 0.0
        for s in range(0, len(x) - batch + 1, batch):
            a, yb = x[s:s + batch], y[s:s + batch]
            acts, pre = [a], []
            for k, (w, b) in enumerate(params):
                z = acts[-1] @ w.T + b
                pre.append(z)
                if k < len(params) - 1:
                    acts.append(0.5 + 0.5 * np.tanh(0.5 * z) if act == "sigmoid"
                                else np.maximum(z, 0))
            z = pre[-1] - pre[-1].max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            loss = float(-np.log(p[np.arange(len(yb)), yb]).mean())
            delta = p
            delta[np.arange(len(yb)), yb] -= 1
            delta /= len(yb)
            for k in range(len(params) - 1, -1, -1):
                w, b = params[k]
                gw, gb = delta.T @ acts[k], delta.sum(axis=0)
                if k:
                    da = delta @ w
                    delta = da * acts[k] * (1 - acts[k]) if act == "sigmoid" else da * (
                        pre[k - 1] > 0)
                w -= lr * gw
                b -= lr * gb
        return loss
    return run


def torch_mlp(sizes: list[int], act: str, batch: int, lr: float) -> Runner:
    import torch

    def run(x: np.ndarray, y: np.ndarray) -> float:
        layers: list[Any] = []
        for k, (w, b) in enumerate(mlp_params(sizes)):
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if k < len(sizes) - 2:
                layers.append(torch.nn.Sigmoid() if act == "sigmoid" else torch.nn.ReLU())
        return train_torch(torch.nn.Sequential(*layers), x, y, batch, lr)
    return run


# ---- (c): CNN ------------------------------------------------------------------------------
def cnn_params(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [(8, 1, 5, 5), (8,), (16, 8, 5, 5), (16,), (10, 256), (10,)]
    fan = {0: 25, 2: 200, 4: 256}
    return [(rng.standard_normal(s) / np.sqrt(fan[i])).astype(np.float32) if i in fan
            else np.zeros(s, np.float32) for i, s in enumerate(shapes)]


def ours_cnn(batch: int, lr: float, jit: bool = False) -> Runner:
    def run(x: np.ndarray, y: np.ndarray) -> float:
        model = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(256, 10))
        for p, v in zip(model.parameters(), cnn_params()):
            p.data[...] = v
        return train_ours(model, x.reshape(-1, 1, 28, 28), y, batch, lr, jit)
    return run


def torch_cnn(batch: int, lr: float) -> Runner:
    import torch

    def run(x: np.ndarray, y: np.ndarray) -> float:
        tnn = torch.nn
        model = tnn.Sequential(tnn.Conv2d(1, 8, 5), tnn.ReLU(), tnn.MaxPool2d(2),
                               tnn.Conv2d(8, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                               tnn.Linear(256, 10))
        with torch.no_grad():
            for p, v in zip(model.parameters(), cnn_params()):
                p.copy_(torch.from_numpy(v))
        return train_torch(model, x.reshape(-1, 1, 28, 28), y, batch, lr)
    return run


def numpy_cnn(batch: int, lr: float) -> Runner:
    """Hand-written im2col CNN forward/backward (same maths as the library, no graph)."""
    from numpy.lib.stride_tricks import sliding_window_view as windows

    def conv(x, w, b):
        cols = windows(x, w.shape[2:], axis=(2, 3))             # N, C, OH, OW, KH, KW
        return np.einsum("nchwij,ocij->nohw", cols, w, optimize=True) + b[:, None, None], cols

    def pool(a):
        n, c, h, w_ = a.shape
        r = a.reshape(n, c, h // 2, 2, w_ // 2, 2)
        m = r.max(axis=(3, 5))
        mask = r == m[:, :, :, None, :, None]
        return m, mask

    def conv_back(g, cols, w, x_shape):
        gw = np.einsum("nohw,nchwij->ocij", g, cols, optimize=True)
        gx = np.zeros(x_shape, np.float32)
        kh, kw = w.shape[2:]
        oh, ow = g.shape[2:]
        for i in range(kh):
            for j in range(kw):
                gx[:, :, i:i + oh, j:j + ow] += np.einsum("nohw,oc->nchw", g, w[:, :, i, j])
        return gx, gw, g.sum(axis=(0, 2, 3))

    def run(x: np.ndarray, y: np.ndarray) -> float:
        w1, b1, w2, b2, w3, b3 = (p.copy() for p in cnn_params())
        x4 = x.reshape(-1, 1, 28, 28)
        loss = 0.0
        for s in range(0, len(x) - batch + 1, batch):
            xb, yb = x4[s:s + batch], y[s:s + batch]
            z1, c1 = conv(xb, w1, b1)
            a1 = np.maximum(z1, 0)
            p1, m1 = pool(a1)
            z2, c2 = conv(p1, w2, b2)
            a2 = np.maximum(z2, 0)
            p2, m2 = pool(a2)
            f = p2.reshape(len(xb), -1)
            logits = f @ w3.T + b3
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            pr = e / e.sum(axis=1, keepdims=True)
            loss = float(-np.log(pr[np.arange(len(yb)), yb]).mean())
            pr[np.arange(len(yb)), yb] -= 1
            d = pr / len(yb)
            gw3, gb3 = d.T @ f, d.sum(axis=0)
            dp2 = (d @ w3).reshape(p2.shape)
            da2 = (mask_up(dp2, m2)) * (z2 > 0)
            dp1, gw2, gb2 = conv_back(da2, c2, w2, p1.shape)
            da1 = mask_up(dp1, m1) * (z1 > 0)
            _, gw1, gb1 = conv_back(da1, c1, w1, xb.shape)
            for p, g in ((w1, gw1), (b1, gb1), (w2, gw2), (b2, gb2), (w3, gw3), (b3, gb3)):
                p -= lr * g
        return loss

    def mask_up(g, mask):
        n, c, h, w_ = g.shape
        up = mask * g[:, :, :, None, :, None]
        return up.reshape(n, c, 2 * h, 2 * w_).astype(np.float32)

    return run


# ---- (d): a tiny graph -----------------------------------------------------------------------
def tiny_graph(impl: str, iterations: int) -> Callable[[], float]:
    """fwd+bwd of sigmoid(x @ w).sum() for 2x2 matrices, ``iterations`` times (``impl``:
    tinygrad_nd, jit, numpy or torch)."""
    x0 = np.array([[0.5, -1.0], [2.0, 0.1]], np.float32)
    w0 = np.array([[0.3, 0.2], [-0.4, 1.0]], np.float32)
    if impl in ("tinygrad_nd", "jit"):
        def run() -> float:
            x, w = tg.Tensor(x0), tg.Tensor(w0, requires_grad=True)

            def step() -> None:
                w.grad = None
                (x @ w).sigmoid().sum().backward()

            compiled = tg.jit(step) if impl == "jit" else step
            for _ in range(iterations):
                compiled()
            return float(w.grad.data.sum())
    elif impl == "numpy":
        def run() -> float:
            for _ in range(iterations):
                s = 0.5 + 0.5 * np.tanh(0.5 * (x0 @ w0))
                gw = x0.T @ (s * (1 - s))
            return float(gw.sum())
    else:
        import torch

        def run() -> float:
            x, w = torch.from_numpy(x0), torch.from_numpy(w0.copy()).requires_grad_()
            for _ in range(iterations):
                w.grad = None
                (x @ w).sigmoid().sum().backward()
            return float(w.grad.sum())
    return run
