"""Nielsen's accuracy-versus-depth table: adding hidden layers to a sigmoid net brings little."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import data
from ..factories import manual_seed
from .common import (
    Report,
    accuracy,
    accuracy_axes,
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
BOOK_IMAGES, BOOK_TEST, BOOK_EPOCHS, BOOK_LMBDA = 50_000, 10_000, 30, 5.0


@dataclass
class DepthConfig:
    """Settings of `run_depth`. `lmbda` is the L2 strength *for 50,000 images* (the
    book's 5.0); it is scaled to the images used, so that lambda/n, the weight decay per
    step, is the book's whatever the data size.

    Attributes
    ----------
    depths : tuple of int, default (1, 2, 3, 4)
        The numbers of hidden layers compared.
    width : int, default 30
        Neurons per hidden layer (the book's 30).
    epochs : int, default 30
        Passes over the training images (the book's 30).
    batch_size : int, default 10
        Mini-batch size (the book's 10).
    eta : float, default 0.1
        SGD learning rate (the book's 0.1).
    lmbda : float, default 5.0
        L2 strength for 50,000 images, scaled to `images` (see above).
    images : int, default 4000
        Training images (the book: 50,000); the test images are the rest of the split.
    dataset : {"digits", "fashion", "mnist"}, default "digits"
        The embedded 5,000 MNIST digits, or Fashion-MNIST / MNIST when installed.
    seed : int, default 0
        Seed of the data split, the initial weights and the mini-batch order.
    jit : bool, default True
        Train with a step compiled by `tinygrad_nd.jit` (the same numbers, bit for bit,
        in less time); False runs the eager step.
    """

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


def scaled_lmbda(lmbda: float, images: int) -> float:
    """The L2 strength for `images` training images with the same lambda/n as `lmbda`
    has for the book's 50,000 images.

    Parameters
    ----------
    lmbda : float
        The L2 strength lambda meant for 50,000 training images.
    images : int
        The number of training images actually used.

    Examples
    --------
    >>> scaled_lmbda(5.0, 4000)
    0.4
    """
    return lmbda * images / BOOK_IMAGES


def train_depth(k: int, cfg: DepthConfig, xs: Any, ys: Any, xt: Any, yt: Any) -> list[float]:
    """Train [784, width x k, 10] and return its test accuracy after each epoch. Every depth
    gets the same initial-weight seed and the same order of mini-batches.

    Parameters
    ----------
    k : int
        Number of hidden layers.
    cfg : DepthConfig
        Width, epochs, batch size, eta, lambda and seed.
    xs, ys : ndarray
        Training images (n, 784) and their integer labels (n,).
    xt, yt : ndarray
        Test images and labels, measured after every epoch.
    """
    manual_seed(cfg.seed)
    model = build_net([784] + [cfg.width] * k + [10], seed=cfg.seed)
    opt = nielsen_optimizer(model, cfg.eta, scaled_lmbda(cfg.lmbda, len(xs)), len(xs))
    loader = data.DataLoader(data.TensorDataset(xs, one_hot(ys)), cfg.batch_size, shuffle=True,
                             seed=cfg.seed)
    step = (compiled_train_step(model, nielsen_cross_entropy, opt) if cfg.jit else
            lambda x, y: train_step(model, nielsen_cross_entropy, opt, x, y))
    curve = []
    for _ in progress(range(cfg.epochs), desc=f"{k} hidden layers", unit="epoch"):
        for xb, yb in loader:
            step(xb, yb)
        curve.append(accuracy(model, xt, yt))
    return curve or [accuracy(model, xt, yt)]


def standard_error(p: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on `n` images: how much it would move
    on another sample of the same size (differences well below ~2 of these are noise).

    Parameters
    ----------
    p : float
        The measured accuracy, a fraction in [0, 1]. At 0 or 1 the variance is floored at
        1e-12, so the error is tiny but never exactly 0.
    n : int
        How many images it was measured on (positive).

    Returns
    -------
    float
        `sqrt(p (1 - p) / n)`, as a fraction (multiply by 100 for percentage points).

    Examples
    --------
    >>> round(standard_error(0.9, 10_000), 4)
    0.003
    """
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def _outcome(results: dict[str, Any]) -> str:
    """One sentence on this run's result, from its numbers."""
    final = results["accuracy"]
    best = max(final, key=final.get)
    deepest, shallowest = max(final), min(final)
    if deepest == shallowest:
        return f"Here the {deepest}-hidden-layer net ends at {100 * final[deepest]:.1f}%."
    return (f"Here the best depth is {best} hidden layer(s) ({100 * final[best]:.1f}%), and the "
            f"{deepest}-hidden-layer net ends at {100 * final[deepest]:.1f}% against "
            f"{100 * final[shallowest]:.1f}% for {shallowest}.")


def run_depth(out: str | Path = "reports/depth", cfg: DepthConfig | None = None,
              verbose: bool = True) -> dict[str, Any]:
    """Train [784, 30 x k, 10] for each k; write the table and a figure; return accuracies.

    Parameters
    ----------
    out : str or Path, default "reports/depth"
        The folder for `report.md`, `results.json` and the figure (created if needed).
    cfg : DepthConfig, optional
        The settings; `DepthConfig()` (the book's, on 4,000 images) by default.
    verbose : bool, default True
        Print the report's table and its path when done.
    """
    cfg = cfg or DepthConfig()
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, n_test=None, seed=cfg.seed)
    lmbda = scaled_lmbda(cfg.lmbda, len(xs))
    steps, book_steps = cfg.epochs * math.ceil(len(xs) / cfg.batch_size), \
        BOOK_EPOCHS * BOOK_IMAGES // cfg.batch_size
    report = Report(Path(out), f"Accuracy versus depth on {len(xs):,} training images "
                               f"(Nielsen, chapter 5)")
    results: dict[str, Any] = {"config": asdict(cfg), "lmbda_used": lmbda, "train_images":
                               len(xs), "test_images": len(xt), "accuracy": {}, "curves": {},
                               "best": {}}
    rows = []
    for k in cfg.depths:
        curve = train_depth(k, cfg, xs, ys, xt, yt)
        final = curve[-1]
        results["accuracy"][k], results["curves"][k], results["best"][k] = final, curve, \
            max(curve)
        rows.append([k, f"{100 * final:.2f}% ± {100 * standard_error(final, len(xt)):.2f}",
                     f"{100 * max(curve):.2f}% (epoch {curve.index(max(curve)) + 1})",
                     f"{NIELSEN_ACCURACY[k]:.2f}%" if k in NIELSEN_ACCURACY else "-"])
    report.text(f"""
## What this shows

Nielsen trains sigmoid nets with 1, 2, 3 and 4 hidden layers of 30 neurons and finds that
the extra layers barely help: accuracy stays near 96.5-96.9% instead of rising with depth.
We repeat the experiment with the same learning rule, so every depth sees exactly the same
images in the same order, starting from the same random seed. {_outcome(results)} If the
deeper nets do not beat the shallow one, the extra layers are not being trained well: the
rest of chapter 5 (and `tinygrad-nd vanishing`) shows why, the early layers learn far more
slowly than the late ones.

## Setup

Sigmoid nets [784, {cfg.width} x k, 10] with network2's cross-entropy cost and weights
N(0, 1/n_in), trained for {cfg.epochs} epochs by mini-batch SGD (batch {cfg.batch_size},
eta={cfg.eta}) on {len(xs):,} images of {label}; the same seed ({cfg.seed}) for the initial
weights and the mini-batch order at every depth. L2 regularisation is scaled to the data:
lambda = {cfg.lmbda:g} x {len(xs):,} / {BOOK_IMAGES:,} = {lmbda:.4g}, so the weight decay per
step lambda/n = {lmbda / len(xs):.3g} is the book's ({BOOK_LMBDA:g} / {BOOK_IMAGES:,}).
Accuracy is measured on all {len(xt):,} test images of the split after every epoch.
""")
    report.text("## Results")
    text = report.table(["hidden layers", "test accuracy after the last epoch (± 1 s.e.)",
                         "best epoch", "Nielsen (MNIST, 50,000 images)"], rows)
    report.text("The ± is the binomial standard error of an accuracy measured on "
                f"{len(xt):,} images; two depths whose accuracies differ by less than about "
                "twice that are not distinguishable on this test set.")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, curve in results["curves"].items():
        ax.plot(range(1, len(curve) + 1), [100 * c for c in curve], label=f"{k} hidden")
    accuracy_axes(ax)
    ax.set_title(f"Sigmoid nets of 1-{max(cfg.depths)} hidden layers, {len(xs):,} images")
    ax.legend()
    report.figure(fig, "depth", "Test accuracy after each epoch for each depth "
                                "(dotted: chance, 10%)")
    report.text(f"""
## How this differs from the book

- **Data**: {len(xs):,} training images of {label} instead of MNIST's {BOOK_IMAGES:,}, and
  {len(xt):,} test images instead of {BOOK_TEST:,}. With {BOOK_IMAGES // len(xs):g}x fewer
  examples every net fits its training set sooner and generalises worse, so all accuracies are
  lower than the book's, and the test set resolves differences of about
  {200 * standard_error(0.9, len(xt)):.1f} percentage points (two standard errors at 90%),
  against the book's differences between depths of a few tenths of a point.
- **Updates**: {cfg.epochs} epochs of {len(xs):,} images are {steps:,} mini-batch steps, the book's
  {BOOK_EPOCHS} epochs of {BOOK_IMAGES:,} are {book_steps:,}. Deeper nets, whose early layers learn
  slowly, suffer most from the shorter training.
- **Regularisation**: the book's lambda={BOOK_LMBDA:g} is for {BOOK_IMAGES:,} images. Kept
  unscaled on {len(xs):,} images it would make the decay per step
  {BOOK_IMAGES / len(xs):.3g}x the book's and shrink the weights that much harder at every
  step; we scale it instead, as described above.
- The book reports one run per depth; so do we (use `--seed` to see another).
""")
    return finish(report, results, text, verbose)
