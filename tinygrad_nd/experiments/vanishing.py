"""Chapter 5 reproduced: the speed of learning ||delta^l|| of each hidden layer of sigmoid nets.

Setup (Nielsen, "Neural Networks and Deep Learning", ch. 5): nets [784, 30 x k, 10] for
k = 2, 3, 4 hidden layers, sigmoid everywhere, network2's cross-entropy cost, weights
N(0, 1/n_in), biases N(0, 1). `||delta^l||` is the length of dC/db^l for the cost averaged
over 1,000 training images: first at initialisation (over several seeds), then once per epoch
of full-batch gradient descent (eta = 0.1, lambda = 5.0 in the book's L2 form).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..diagnostics import GradientMonitor
from ..tensor import Tensor
from .common import (
    Report,
    accuracy,
    build_net,
    finish,
    load_images,
    nielsen_cross_entropy,
    one_hot,
    progress,
    pyplot,
    train_step,
)
from .snapshots import vanishing_page

NIELSEN_AT_INIT = {2: [0.07, 0.31], 3: [0.012, 0.060, 0.283], 4: [0.003, 0.017, 0.070, 0.285]}


@dataclass
class VanishingConfig:
    """Settings of `run_vanishing` (defaults: the book's)."""

    depths: tuple[int, ...] = (2, 3, 4)
    width: int = 30
    images: int = 1000
    seeds: int = 5
    epochs: int = 500
    eta: float = 0.1
    lmbda: float = 5.0
    dataset: str = "digits"
    seed: int = 0


def nielsen_optimizer(model: Any, eta: float, lmbda: float, n: int) -> optim.SGD:
    """network2's update: weights decay by (1 - eta*lmbda/n), biases are not regularised."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    return optim.SGD([{"params": weights, "weight_decay": lmbda / n},
                      {"params": biases, "weight_decay": 0.0}], lr=eta)


def speeds_at_init(sizes: list[int], x: Tensor, y: Tensor, seed: int) -> np.ndarray:
    """||dC/db^l|| of every hidden layer for a freshly initialised net."""
    model = build_net(sizes, seed=seed)
    with GradientMonitor(model) as monitor:
        nielsen_cross_entropy(model(x), y).backward()
    return monitor.history["bias_grad"][0, :-1]


def train_full_batch(sizes: list[int], x: Tensor, y: Tensor, cfg: VanishingConfig,
                     seed: int) -> tuple[np.ndarray, Any]:
    """Per-epoch ||delta^l|| of the hidden layers over `cfg.epochs` of full-batch GD."""
    model = build_net(sizes, seed=seed)
    opt = nielsen_optimizer(model, cfg.eta, cfg.lmbda, len(x))
    with GradientMonitor(model) as monitor:
        for _ in progress(range(cfg.epochs), desc=f"{len(sizes) - 2} hidden layers",
                          unit="epoch"):
            train_step(model, nielsen_cross_entropy, opt, x, y)
    return monitor.history["bias_grad"][:, :-1], model


def run_vanishing(out: str | Path = "reports/vanishing", cfg: VanishingConfig | None = None,
                  verbose: bool = True) -> dict[str, Any]:
    """Run the experiment, write `report.md` with figures to `out`; return the numbers."""
    cfg = cfg or VanishingConfig()
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, seed=cfg.seed)
    x, y = Tensor(xs), Tensor(one_hot(ys))
    report = Report(Path(out), "Why are deep sigmoid nets hard to train? (Nielsen, chapter 5)")
    report.text(f"""
Data: the first {cfg.images} training images of {label}. Nets: [784, {cfg.width} x k, 10] for
k in {list(cfg.depths)}, sigmoid in every layer, network2's cross-entropy cost, weights
N(0, 1/n_in), biases N(0, 1). ||delta^l|| is the Euclidean length of dC/db^l for the cost
averaged over all {cfg.images} images, measured by the autograd through
`tinygrad_nd.diagnostics.GradientMonitor`. Seeds 0..{cfg.seeds - 1} at initialisation; seed
{cfg.seed} for training ({cfg.epochs} epochs of full-batch gradient descent, eta={cfg.eta},
lambda={cfg.lmbda}, L2 as (1 - eta*lambda/n) w, n={cfg.images}). Reproduce with
`tinygrad-nd vanishing --epochs {cfg.epochs} --seeds {cfg.seeds} --dataset {cfg.dataset}`.
""")
    results: dict[str, Any] = {"config": asdict(cfg), "at_init": {}, "training": {}}
    rows = []
    for k in cfg.depths:
        sizes = [784] + [cfg.width] * k + [10]
        speeds = np.array([speeds_at_init(sizes, x, y, s) for s in range(cfg.seeds)])
        mean, std = speeds.mean(axis=0), speeds.std(axis=0)
        results["at_init"][k] = {"mean": mean.tolist(), "std": std.tolist(),
                                 "first_over_last": float((speeds[:, 0] / speeds[:, -1]).mean())}
        book = NIELSEN_AT_INIT.get(k)
        rows.append([f"{k} hidden", ", ".join(f"{m:.3f}±{s:.3f}" for m, s in zip(mean, std)),
                     ", ".join(map(str, book)) if book else "-",
                     f"{results['at_init'][k]['first_over_last']:.3f}"])
    text = report.table(["net", "‖δˡ‖ at init, layer 1..k (mean±sd over seeds)",
                         "Nielsen (book)", "first/last"], rows)
    report.figure(_init_figure(results["at_init"], cfg), "speed_at_init",
                  "Speed of learning of each hidden layer at initialisation (log scale)")
    _graph_figure(report, [784] + [cfg.width] * max(cfg.depths) + [10], x, y, cfg.seed)

    acc_rows = []
    curves = {}
    for k in cfg.depths if cfg.epochs else ():
        sizes = [784] + [cfg.width] * k + [10]
        history, model = train_full_batch(sizes, x, y, cfg, cfg.seed)
        curves[k] = history
        ratio = history[:, 0] / history[:, -1]
        results["training"][k] = {
            "first_over_last_min": float(ratio.min()), "first_over_last_final": float(ratio[-1]),
            "final_speeds": history[-1].tolist(),
            "train_accuracy": accuracy(model, xs, ys), "test_accuracy": accuracy(model, xt, yt)}
        acc_rows.append([f"{k} hidden", f"{ratio.min():.4f}", f"{ratio[-1]:.4f}",
                         f"{results['training'][k]['train_accuracy']:.1%}",
                         f"{results['training'][k]['test_accuracy']:.1%}"])
    if cfg.epochs:
        report.figure(_training_figure(curves, cfg), "speed_during_training",
                      f"Speed of learning per hidden layer over {cfg.epochs} epochs (log scale)")
        text += "\n\n" + report.table(
            ["net", "min first/last speed", "final first/last", "train acc (full-batch GD)",
             "held-out acc"],
            acc_rows)
        vanishing_page(report, x, y, cfg)  # report.html: the graph recoloured epoch by epoch
    return finish(report, results, text, verbose)


def _graph_figure(report: Report, sizes: list[int], x: Tensor, y: Tensor, seed: int) -> None:
    """The deepest net's graph, one node per layer, coloured by log10 of its gradient norm."""
    from .. import viz

    graph = viz.draw_model(build_net(sizes, seed=seed), x, nielsen_cross_entropy, y,
                           collapse=True)
    caption = (f"Computation graph of the {len(sizes) - 2}-hidden-layer net (one node per "
               "layer), coloured by the gradient norm of each node: the fade towards the input "
               "is the vanishing gradient")
    fmt = "png" if viz.renderer("png") else "svg"  # (the WebAssembly Graphviz draws SVG)
    if viz.renderer(fmt) is None:  # keep the DOT source, and say so where the user looks
        (report.folder / "graph.dot").write_text(graph.source)
        report.text(f"Graph: `graph.dot`, not drawn ({viz.INSTALL_HINT})")
        warnings.warn(f"the graph figure was not drawn: {viz.INSTALL_HINT}",
                      viz.GraphvizMissingWarning, stacklevel=2)
        return
    path = graph.render(report.folder / "graph", format=fmt, cleanup=True)
    report.image(Path(path), caption)


def _init_figure(at_init: dict[int, Any], cfg: VanishingConfig):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, stats in at_init.items():
        layers = np.arange(1, len(stats["mean"]) + 1)
        ax.errorbar(layers, stats["mean"], yerr=stats["std"], marker="o", capsize=3,
                    label=f"{k} hidden layers (ours)")
        if k in NIELSEN_AT_INIT:
            ax.plot(layers, NIELSEN_AT_INIT[k], linestyle=":", marker="x", color="gray")
    ax.plot([], [], linestyle=":", marker="x", color="gray", label="Nielsen's values")
    ax.set_yscale("log")
    ax.set_xlabel("hidden layer l (1 = next to the input)")
    ax.set_ylabel("||delta^l|| = ||dC/db^l||")
    ax.set_title(f"Speed of learning at initialisation ({cfg.seeds} seeds)")
    ax.set_xticks(range(1, max(cfg.depths) + 1))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def _training_figure(curves: dict[int, np.ndarray], cfg: VanishingConfig):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.6), sharey=True,
                             squeeze=False)
    for ax, (k, history) in zip(axes[0], curves.items()):
        for layer in range(history.shape[1]):
            ax.plot(np.arange(1, len(history) + 1), history[:, layer], label=f"layer {layer + 1}")
        ax.set_yscale("log")
        ax.set_title(f"{k} hidden layers")
        ax.set_xlabel("epoch")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("||delta^l||")
    fig.suptitle(f"Speed of learning during training (full batch, eta={cfg.eta}, "
                 f"lambda={cfg.lmbda})")
    return fig
