"""Saturated sigmoids learn slowly: two measurements the vanishing report adds to chapter 5.

* `top_layer_saturation`: Glorot & Bengio (2010) saw the last hidden layer of a deep
  sigmoid net driven to 0 early in training (the output layer first learns to ignore its
  still-uninformative input); we train such a net and record each hidden layer's mean
  activation on held-out images.
* `cost_slowdown`: chapter 3's single neuron (x = 1, y = 0, w = b = 2, eta = 0.15):
  with the quadratic cost the output error is delta^L = (a - y) sigma'(z), nearly zero while
  the neuron is saturated, so learning stalls; with the cross-entropy it is a - y.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd, engine, nn, optim
from ..tensor import Tensor
from .common import Report, accuracy, build_net, progress, pyplot, train_step
from .vanishing_at_init import hidden_activity


def glorot_net(sizes: list[int], seed: int) -> nn.Sequential:
    """The sigmoid net of Glorot & Bengio's saturation study: weights U(-1/sqrt(n_in),
    1/sqrt(n_in)) (their "standard" initialisation), biases 0, logits out (softmax in the
    loss)."""
    model = build_net(sizes, init="pytorch", output=None, seed=seed)
    with autograd.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.bias.copy_(np.zeros(m.bias.shape))
    return model


def top_layer_saturation(x: np.ndarray, y: np.ndarray, probe: np.ndarray, probe_y: np.ndarray,
                         width: int = 100, depth: int = 4, steps: int = 1000, lr: float = 0.5,
                         batch: int = 10, every: int = 20, seed: int = 0) -> dict[str, Any]:
    """Train `glorot_net` `[784, width x depth, 10]` by mini-batch SGD on
    softmax cross-entropy; every `every` steps record each hidden layer's mean and std of
    its activations over the `probe` images. Returns `steps` (the recorded step numbers),
    `mean` and `std` (arrays of shape (records, depth)) and the probe accuracy at the end.
    """
    model = glorot_net([x.shape[1]] + [width] * depth + [10], seed)
    opt = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    recorded, means, stds = [], [], []

    def record(step: int) -> None:
        with autograd.no_grad():
            activity = hidden_activity(model, Tensor(probe))
        recorded.append(step)
        means.append([float(a.data.mean()) for _, a in activity])
        stds.append([float(a.data.std()) for _, a in activity])

    order = np.concatenate([rng.permutation(len(x)) for _ in range(-(-steps * batch // len(x)))])
    record(0)
    for step in progress(range(1, steps + 1), desc="Glorot saturation", unit="step"):
        idx = order[(step - 1) * batch: step * batch]
        train_step(model, nn.functional.cross_entropy, opt, Tensor(x[idx]), y[idx])
        if step % every == 0 or step == steps:
            record(step)
    return {"steps": recorded, "mean": np.array(means), "std": np.array(stds),
            "probe_accuracy": accuracy(model, probe, probe_y)}


def cost_slowdown(cost: str, w: float = 2.0, b: float = 2.0, eta: float = 0.15,
                  epochs: int = 300, x: float = 1.0, y: float = 0.0) -> dict[str, np.ndarray]:
    """Chapter 3's one-neuron example under `cost` ("quadratic": (a - y)^2 / 2, or
    "cross-entropy": -[y ln a + (1 - y) ln(1 - a)]), trained by gradient descent.

    Returns per epoch the output `a`, the `cost`, the output error `delta` = dC/dz
    from the autograd and `formula`, chapter 3's closed form of it: (a - y) sigma'(z) for
    the quadratic cost, a - y for the cross-entropy.

    Examples
    --------
    >>> run = cost_slowdown("quadratic", epochs=3)
    >>> bool(np.allclose(run["delta"], run["formula"]))
    True
    """
    if cost not in ("quadratic", "cross-entropy"):
        raise ValueError(f"cost_slowdown: cost must be 'quadratic' or 'cross-entropy', "
                         f"got {cost!r}")
    params = np.array([w, b], dtype=np.float64)
    history: dict[str, list[float]] = {k: [] for k in ("a", "cost", "delta", "formula")}
    for _ in range(epochs):
        wt = Tensor(params[:1], dtype=np.float64, requires_grad=True)
        bt = Tensor(params[1:], dtype=np.float64, requires_grad=True)
        z = wt * x + bt
        a = z.sigmoid()
        if cost == "quadratic":
            c = ((a - y) ** 2).sum() * 0.5
        else:
            c = -(y * a.log() + (1 - y) * (1 - a).log()).sum()
        dz, gw, gb = engine.grad(c, [z, wt, bt])
        value = a.item()
        history["a"].append(value)
        history["cost"].append(c.item())
        history["delta"].append(dz.item())
        history["formula"].append((value - y) * (value * (1 - value) if cost == "quadratic"
                                                 else 1.0))
        params = params - eta * np.concatenate([gw.data, gb.data])
    return {k: np.array(v) for k, v in history.items()}


def first_epoch_below(values: np.ndarray, level: float) -> int | None:
    """The first epoch (1-based) whose value is below `level`, or None if none is."""
    hits = np.nonzero(np.asarray(values) < level)[0]
    return int(hits[0]) + 1 if len(hits) else None


def saturation_sections(report: Report, x: np.ndarray, y: np.ndarray, probe: np.ndarray,
                        probe_y: np.ndarray, steps: int, seed: int, width: int = 100,
                        lr: float = 0.5) -> dict[str, Any]:
    """Add the report's section on saturation (Glorot & Bengio's top layer, chapter 3's
    slow quadratic cost); return the numbers."""
    run = top_layer_saturation(x, y, probe, probe_y, width=width, steps=steps, lr=lr,
                               seed=seed)
    top, others = run["mean"][:, -1], run["mean"][:, :-1]
    low = int(np.argmin(top))
    report.text(f"""
## Saturation: the last hidden layer early in training
Glorot & Bengio (2010) trained deep sigmoid nets and saw the *last* hidden layer saturate
first: its activations driven towards 0 early in training, where σ' is small and the layer
hardly learns. We train [784, {width} × 4, 10] (sigmoid, weights U(±1/√n_in), biases 0 as in
their study, softmax cross-entropy) by SGD (mini-batches of 10, lr = {lr:g}) on {len(x)}
images and record each hidden layer's mean activation on {len(probe)} held-out images. The
last hidden layer's mean falls from {top[0]:.2f} to {top[low]:.3f} (step {run['steps'][low]});
the other layers' means stay within {others.min():.2f}-{others.max():.2f}. After {steps} steps
the net classifies {run['probe_accuracy']:.0%} of the held-out images correctly (chance: 10%).
Glorot & Bengio's explanation of why the top layer goes first: at first its output carries
little information about the image (see the spread above), so the quickest way to lower the
cost is for the output layer to learn the class frequencies through its biases and to switch
its noisy input off, pushing the top sigmoids to 0, where they learn slowly.
""")
    report.figure(saturation_figure(run, width, lr), "top_layer_saturation",
                  "Mean and spread of each hidden layer's activation during training")
    runs = {cost: cost_slowdown(cost) for cost in ("quadratic", "cross-entropy")}
    below = {cost: first_epoch_below(r["a"], 0.5) for cost, r in runs.items()}
    checked = max(float(np.abs(r["delta"] - r["formula"]).max()) for r in runs.values())
    report.text(f"""
## Saturation at the output: the quadratic cost learns slowly
Chapter 3's example: one sigmoid neuron, input x = 1, target y = 0, starting badly wrong at
w = b = 2 (output {runs['quadratic']['a'][0]:.2f}), gradient descent with eta = 0.15. With the
quadratic cost the output error is δᴸ = (a - y) σ'(z), nearly 0 while the neuron is
saturated; with the cross-entropy it is δᴸ = a - y. The autograd's ∂C/∂z equals these
formulas to within {checked:.1e}. The output first drops below 0.5 after
{below['cross-entropy']} epochs with the cross-entropy and after {below['quadratic']} with the
quadratic cost: the same σ' that shrinks the gradient layer by layer also slows the output
layer when the quadratic cost is used.
""")
    report.figure(slowdown_figure(runs, 0.15), "cost_slowdown",
                  "Quadratic cost against cross-entropy on one saturated neuron")
    return {"glorot": {"steps": run["steps"], "mean": run["mean"].tolist(),
                       "std": run["std"].tolist(), "probe_accuracy": run["probe_accuracy"]},
            "cost_slowdown": {cost: {"first_epoch_below_half": below[cost],
                                     "a": r["a"].tolist()} for cost, r in runs.items()},
            "delta_formula_error": checked}


# ---- figures ------------------------------------------------------------------------------
def saturation_figure(run: dict[str, Any], width: int, lr: float):
    """Mean (line) and std (band) of each hidden layer's activation during training."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    steps = np.array(run["steps"])
    for layer in range(run["mean"].shape[1]):
        mean, std = run["mean"][:, layer], run["std"][:, layer]
        ax.plot(steps, mean, color=f"C{layer}", label=f"hidden layer {layer + 1}")
        ax.fill_between(steps, mean - std, mean + std, color=f"C{layer}", alpha=0.15)
    ax.set(title=f"Sigmoid activations during training ([784, {width} x "
                 f"{run['mean'].shape[1]}, 10], SGD lr={lr:g})",
           xlabel="mini-batch step", ylabel="activation: mean ± std (images, units)",
           ylim=(0, 1))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def slowdown_figure(runs: dict[str, dict[str, np.ndarray]], eta: float):
    """Output a and cost per epoch for both costs."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (cost, run) in enumerate(runs.items()):
        epochs = np.arange(1, len(run["a"]) + 1)
        left.plot(epochs, run["a"], color=f"C{i}", label=cost)
        right.plot(epochs, run["cost"], color=f"C{i}", label=cost)
    left.set(title="Output of the neuron (target 0)", xlabel="epoch", ylabel="a", ylim=(0, 1))
    right.set(title="Cost", xlabel="epoch", ylabel="C")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"One saturated neuron (w = b = 2, x = 1, y = 0, eta = {eta:g}): the "
                 "quadratic cost learns slowly")
    fig.tight_layout()
    return fig
