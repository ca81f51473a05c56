"""Exploding gradients: Nielsen's one-neuron chain with w = 100, why large gains are rare (the
slope window of `.slope_window`), and a wide net with large weights that diverges under
SGD unless its gradients are clipped."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import autograd, engine, nn, optim
from ..tensor import Tensor
from .common import Report, build_net, finish, load_images, progress, pyplot, train_step
from .slope_window import slopes_figure, window_figure, window_study, window_width_formula


@dataclass
class ExplodingConfig:
    """Settings of `run_exploding`.

    Attributes
    ----------
    chain_length : int, default 6
        Neurons in the one-neuron chain.
    weight : float, default 100.0
        Every weight of the chain (the book's w = 100).
    input_value : float, default 0.5
        The chain's input.
    target : float, default 0.0
        The chain's target y in the cost (a_L - y)^2 / 2.
    width : int, default 100
        Neurons per hidden layer of the wide ReLU net.
    hidden : int, default 5
        Its number of hidden layers.
    init_std : float, default 0.5
        Standard deviation of its N(0, init_std^2) initial weights (large: He's is
        sqrt(2 / width)).
    lr : float, default 0.05
        Its full-batch SGD learning rate.
    steps : int, default 60
        Its training steps (a run stops early once the loss is not finite).
    clip : float, default 1.0
        `max_norm` of `clip_grad_norm_` in the clipped run.
    dataset : {"digits", "fashion", "mnist"}, default "digits"
        Where its 500 training images come from.
    seed : int, default 0
        Seed of the images and of the initial weights.
    """

    chain_length: int = 6
    weight: float = 100.0
    input_value: float = 0.5
    target: float = 0.0
    width: int = 100
    hidden: int = 5
    init_std: float = 0.5
    lr: float = 0.05
    steps: int = 60
    clip: float = 1.0
    dataset: str = "digits"
    seed: int = 0


def exploding_chain(length: int, weight: float = 100.0, x: float = 0.5, y: float = 0.0
                    ) -> dict[str, Any]:
    """A chain of `length` sigmoid neurons with w = `weight` and biases chosen so every
    z_j = 0; cost (a_L - y)**2 / 2. Returns dC/db_j measured by the autograd and from the
    closed form dC/db_j = sigma'(0)**(L-j+1) w**(L-j) (a_L - y) = (w/4)**(L-j) (a_L - y) / 4,
    with sigma'(0) = 1/4 and a_L = sigma(0) = 1/2: (w/4)**(L-j) / 8 for y = 0.

    Parameters
    ----------
    length : int
        L, the number of neurons in the chain.
    weight : float, default 100.0
        w, every neuron's weight.
    x : float, default 0.5
        The chain's input.
    y : float, default 0.0
        The target in the cost.

    Examples
    --------
    >>> chain = exploding_chain(3, weight=100.0)
    >>> chain["closed_form"].tolist()      # (100/4)**(3-j) / 8 for j = 1, 2, 3
    [78.125, 3.125, 0.125]
    >>> chain["max_relative_error"] < 1e-12
    True
    """
    a = Tensor([x], dtype=np.float64)
    biases = []
    for _ in range(length):
        b = Tensor(-weight * a.data, dtype=np.float64, requires_grad=True)  # makes z = 0
        biases.append(b)
        a = (a * weight + b).sigmoid()
    cost = ((a - y) ** 2).sum() * 0.5
    grads = engine.grad(cost, biases)
    measured = np.array([g.item() for g in grads])
    closed = np.array([0.25 ** (length - j) * weight ** (length - 1 - j) * (0.5 - y)
                       for j in range(length)])
    return {"measured": measured, "closed_form": closed,
            "max_relative_error": float(np.max(np.abs(measured - closed) / np.abs(closed)))}


def _wide_run(cfg: ExplodingConfig, x: Tensor, y: np.ndarray, clip: float | None
              ) -> tuple[list[float], np.ndarray]:
    """Train a wide ReLU net with N(0, init_std**2) weights; return losses and the per-layer
    ||dC/db|| at the first step."""
    from ..diagnostics import GradientMonitor

    sizes = [784] + [cfg.width] * cfg.hidden + [10]
    model = build_net(sizes, activation="relu", init="zeros", output=None, seed=cfg.seed)
    gen = np.random.default_rng(cfg.seed)
    with autograd.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(gen.normal(0, cfg.init_std, m.weight.shape))
    opt = optim.SGD(model.parameters(), lr=cfg.lr)
    losses = []
    with GradientMonitor(model) as monitor:
        for _ in progress(range(cfg.steps), desc="training", unit="step"):
            with np.errstate(all="ignore"):
                losses.append(train_step(model, nn.functional.cross_entropy, opt, x, y, clip))
            if not np.isfinite(losses[-1]):
                break
    return losses, monitor.history["bias_grad"][0]


def run_exploding(out: str | Path = "reports/exploding", cfg: ExplodingConfig | None = None,
                  verbose: bool = True) -> dict[str, Any]:
    """Run both parts, write `report.md` with figures to `out`; return the numbers.

    Parameters
    ----------
    out : str or Path, default "reports/exploding"
        The folder for `report.md`, `results.json` and the figures (created if needed).
    cfg : ExplodingConfig, optional
        The settings; `ExplodingConfig()` by default.
    verbose : bool, default True
        Print the report's tables and its path when done.
    """
    cfg = cfg or ExplodingConfig()
    report = Report(Path(out), "Exploding gradients")
    chain = exploding_chain(cfg.chain_length, cfg.weight, cfg.input_value, cfg.target)
    report.text(f"""
## A chain of one-neuron layers (Nielsen, chapter 5)
{cfg.chain_length} sigmoid neurons, every weight w = {cfg.weight:g}, every bias chosen as
b_j = -w a_(j-1) so that z_j = 0 and sigma'(z_j) = 1/4: each layer multiplies the gradient by
w sigma'(z) = {cfg.weight / 4:g}. Input {cfg.input_value}, cost (a_L - y)^2 / 2 with
y = {cfg.target}. The closed form is dC/db_j = (w/4)^(L-j) (a_L - y)/4 with a_L = 1/2:
{_closed_form_text(cfg.target)}.
""")
    rows = [[j + 1, f"{m:.6g}", f"{c:.6g}"] for j, (m, c) in
            enumerate(zip(chain["measured"], chain["closed_form"]))]
    text = report.table(["layer j", "dC/db_j (autograd)", "closed form"], rows)
    text += f"\nmax relative error: {chain['max_relative_error']:.2e}"
    report.text(f"Largest relative difference between the autograd and the closed form: "
                f"{chain['max_relative_error']:.2e}.")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    layers = np.arange(1, cfg.chain_length + 1)
    ax.semilogy(layers, np.abs(chain["measured"]), "o-", label="autograd")
    ax.semilogy(layers, np.abs(chain["closed_form"]), "x:",
                label=f"closed form {_closed_form_text(cfg.target)}")
    ax.set_xlabel("layer j (1 = input side)")
    ax.set_ylabel("|dC/db_j|")
    ax.set_xticks(layers)
    ax.set_title(f"One-neuron chain, w = {cfg.weight:g}: the gradient grows "
                 f"{cfg.weight / 4:g}x per layer towards the input")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    report.figure(fig, "chain", "Exploding gradient in the one-neuron chain")

    study = window_study(np.geomspace(1, 1000, 61))
    report.text(f"""
## Why large gains are rare: the slope window
The slope of the sigmoid is at most σ'(0) = 1/4; tanh's is at most 1. A layer's gain
|w σ'(w a + b)| can therefore reach 1 only if |w| ≥ 4, and then only for inputs a inside a
window, because a large |w| also makes |z| large, where σ' dies off exponentially. Measured
on a grid of a with the autograd's σ' (b = -w/2 centres the window on a = 1/2; b only shifts
it): the window is empty for |w| < 4, widest at |w| ≈ {study["peak_weight"]:.3g}, where it
spans {study["peak_width"]:.3f} of a, and narrows again beyond: {window_width_formula(20):.3f}
at |w| = 20, {window_width_formula(100):.3f} at |w| = 100 (Nielsen's closed form; the measured
widths agree with it to within
{np.abs(study["measured"] - study["formula"]).max():.1e}, the grid spacing). Even the widest
window covers {study["peak_width"]:.0%} of the range (0, 1) of a sigmoid's output: large gains
need large weights *and* inputs tuned to them, so the typical layer shrinks the gradient.
""")
    report.figure(slopes_figure(), "slopes", "σ'(z), at most 1/4, and tanh'(z), at most 1")
    report.figure(window_figure(study), "slope_window",
                  "Left: the gain of one sigmoid layer against its input a; right: the width "
                  "of the window where the gain is at least 1, against |w|")

    xs, ys, _, _, label = load_images(cfg.dataset, 500, 0, seed=cfg.seed)
    x = Tensor(xs)
    plain, grads = _wide_run(cfg, x, ys, None)
    clipped, _ = _wide_run(cfg, x, ys, cfg.clip)
    report.text(f"""
## A wide ReLU net with large weights
[784, {cfg.width} x {cfg.hidden}, 10], ReLU, weights N(0, {cfg.init_std}^2) (He's choice would be
{np.sqrt(2 / cfg.width):.3f}), softmax cross-entropy, full-batch SGD (lr = {cfg.lr}) on 500
images of {label}, with and without `clip_grad_norm_(max_norm={cfg.clip})`.
""")
    text += "\n\n" + report.table(
        ["layer", "‖dC/db‖ at step 1", "vs last layer"],
        [[i + 1, f"{g:.3g}", f"{g / grads[-1]:.3g}"] for i, g in enumerate(grads)])
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(np.arange(1, len(plain) + 1), plain, label="plain SGD")
    ax.plot(np.arange(1, len(clipped) + 1), clipped, label=f"SGD + clip_grad_norm_({cfg.clip})")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title("Large initial weights: clipping keeps training finite")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    report.figure(fig, "clipping", "Loss with and without gradient clipping")
    results = {"config": asdict(cfg),
               "chain": {k: np.asarray(v).tolist() for k, v in chain.items()},
               "wide": {"grad_at_init": grads.tolist(), "plain_losses": plain,
                        "clipped_losses": clipped,
                        "plain_diverged": bool(not np.isfinite(plain[-1]) or plain[-1] > plain[0]),
                        "clipped_final": clipped[-1]}}
    text += (f"\n\nplain SGD: loss {plain[0]:.3g} -> {plain[-1]:.3g} after {len(plain)} steps; "
             f"clipped: {clipped[0]:.3g} -> {clipped[-1]:.3g}")
    report.text(text.split("\n\n")[-1])
    results["window"] = {k: np.asarray(v).tolist() for k, v in study.items()}
    report.text(f"""
## How this differs from the book
The chain is the book's example exactly (w = {cfg.weight:g}, z_j = 0, so σ'(z_j) = 1/4);
Nielsen states the factor of 25 per layer, we also print every dC/db_j and compare it with
the closed form. The window width is his end-of-section problem, solved here numerically and
checked against its closed form. The wide ReLU net and gradient clipping are not in
chapter 5 (clipping by norm is Pascanu, Mikolov & Bengio 2013).
""")
    report.parts.insert(0, _what_this_shows(cfg, chain, study, results["wide"]))
    return finish(report, results, text, verbose)


def _what_this_shows(cfg: ExplodingConfig, chain: dict[str, Any], study: dict[str, Any],
                     wide: dict[str, Any]) -> str:
    """The opening paragraph, written from the measured numbers (it goes first, written last)."""
    growth = chain["measured"][0] / chain["measured"][1] if cfg.chain_length > 1 else 1.0
    if wide["plain_diverged"] and np.isfinite(wide["clipped_final"]):
        ending = ("plain SGD diverges, and clipping the gradient norm keeps the loss finite")
    else:
        ending = "with these settings plain SGD did not diverge"
    return f"""## What this shows
Backpropagation multiplies the gradient by one factor w σ'(z) per layer, so the gradient of an
early layer is a product of many factors: unstable. In Nielsen's chain of one-neuron layers
with w = {cfg.weight:g} every factor is w/4 = {cfg.weight / 4:g}, and the autograd's gradient
grows {growth:.4g}× per layer towards the input. But σ' is at most 1/4, and a large w pushes
z = w a + b to where σ' is tiny unless a falls into a window at most
{study['peak_width']:.2f} wide: a factor above 1 is rare, which is why sigmoid nets usually
vanish rather than explode. In a wide ReLU net with too-large weights the gradient does
explode: {ending}.
"""


def _closed_form_text(target: float) -> str:
    """The chain's closed form written for the target y, e.g. (w/4)^(L-j)/8 for y = 0."""
    scale = abs(0.5 - target) / 4
    if scale == 0:
        return "0 (a_L = y)"
    return f"(w/4)^(L-j)/{1 / scale:g}" if (1 / scale).is_integer() else \
        f"(w/4)^(L-j) x {scale:g}"
