"""Nielsen's accuracy-versus-depth table: more hidden layers do not help a sigmoid net."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import data
from ..factories import manual_seed
from .common import (
    Report,
    accuracy,
    build_net,
    compiled_train_step,
    finish,
    load_images,
    nielsen_cross_entropy,
    one_hot,
    progress,
    pyplot,
    train_step,
)
from .vanishing import nielsen_optimizer

NIELSEN_ACCURACY = {1: 96.48, 2: 96.90, 3: 96.57, 4: 96.53}


@dataclass
class DepthConfig:
    """Settings of :func:`run_depth` (defaults: the book's, on the embedded digits)."""

    depths: tuple[int, ...] = (1, 2, 3, 4)
    width: int = 30
    epochs: int = 30
    batch_size: int = 10
    eta: float = 0.1
    lmbda: float = 5.0
    images: int = 4000
    dataset: str = "digits"
    seed: int = 0
    jit: bool = True  # compile the training step (tg.jit: the same numbers, faster)


def run_depth(out: str | Path = "reports/depth", cfg: DepthConfig | None = None,
              verbose: bool = True) -> dict[str, Any]:
    """Train [784, 30 x k, 10] for each k; write the table and a figure; return accuracies."""
    cfg = cfg or DepthConfig()
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, seed=cfg.seed)
    report = Report(Path(out), "Accuracy versus depth (Nielsen, chapter 5)")
    report.text(f"""
Sigmoid nets [784, {cfg.width} x k, 10] with network2's cross-entropy cost, weights
N(0, 1/n_in), trained for {cfg.epochs} epochs by mini-batch SGD (batch {cfg.batch_size},
eta={cfg.eta}, lambda={cfg.lmbda}) on {len(xs)} images of {label}; accuracy on {len(xt)}
held-out images. Nielsen's numbers are for the full 50,000/10,000 MNIST split.
""")
    loader = data.DataLoader(data.TensorDataset(xs, one_hot(ys)), cfg.batch_size, shuffle=True,
                             seed=cfg.seed)
    results: dict[str, Any] = {"config": asdict(cfg), "accuracy": {}, "curves": {}}
    rows = []
    for k in cfg.depths:
        manual_seed(cfg.seed)
        model = build_net([784] + [cfg.width] * k + [10], seed=cfg.seed)
        opt = nielsen_optimizer(model, cfg.eta, cfg.lmbda, len(xs))
        step = (compiled_train_step(model, nielsen_cross_entropy, opt) if cfg.jit else
                lambda x, y, m=model, o=opt: train_step(m, nielsen_cross_entropy, o, x, y))
        curve = []
        for _ in progress(range(cfg.epochs), desc=f"{k} hidden layers", unit="epoch"):
            for xb, yb in loader:
                step(xb, yb)
            curve.append(accuracy(model, xt, yt))
        results["accuracy"][k] = curve[-1] if curve else accuracy(model, xt, yt)
        results["curves"][k] = curve
        rows.append([k, f"{100 * results['accuracy'][k]:.2f}%",
                     f"{NIELSEN_ACCURACY[k]:.2f}%" if k in NIELSEN_ACCURACY else "-"])
    text = report.table(["hidden layers", "held-out accuracy (ours)", "Nielsen (MNIST)"], rows)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for k, curve in results["curves"].items():
        ax.plot(range(1, len(curve) + 1), [100 * c for c in curve], label=f"{k} hidden")
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_title("Deeper sigmoid nets do not learn better")
    ax.grid(True, alpha=0.3)
    ax.legend()
    report.figure(fig, "depth", "Held-out accuracy per epoch for 1-4 hidden layers")
    return finish(report, results, text, verbose)



