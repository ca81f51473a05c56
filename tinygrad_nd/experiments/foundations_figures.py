"""The figures of `tinygrad-nd foundations` (one function per figure, matplotlib only)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import accuracy_axes, epoch_axis, pyplot

CHANCE = 0.1  # ten classes


def z_histograms(neuron: dict[str, dict[str, Any]], saturation: float):
    """Histogram of z per initialiser with the Gaussian N(0, theory_sd**2) and the saturation
    thresholds."""
    from .foundations_init import BOOK_Z_SD, INIT_LABELS

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (key, stats) in zip(axes, neuron.items()):
        sd = stats["theory_sd"]
        limit = 4 * max(sd, saturation / 2)
        grid = np.linspace(-limit, limit, 400)
        ax.hist(stats["z"], bins=60, range=(-limit, limit), density=True, alpha=0.6,
                label=f"measured, sd {stats['sd']:.2f}")
        ax.plot(grid, np.exp(-0.5 * (grid / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), "k-",
                linewidth=1, label=f"N(0, {sd:.3g}²) (book: sd {BOOK_Z_SD[key]})")
        for side in (-1, 1):
            ax.axvspan(side * saturation, side * limit, color="tab:red", alpha=0.08)
        ax.plot([], [], color="tab:red", alpha=0.3, linewidth=6,
                label=f"saturated (|z| > {saturation:g}): {stats['saturated']:.1%}")
        ax.set_title(INIT_LABELS[key], fontsize=10)
        ax.set_xlabel("z")
        ax.legend(fontsize=8, loc="upper right")
    axes[0].set_ylabel("density")
    fig.suptitle("z of a 1,000-input neuron with 500 inputs on")
    return fig


def init_learning(curves: dict[str, list[float]], images: int):
    """Validation accuracy per epoch for each initialiser."""
    from .foundations_init import INIT_LABELS

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for key, acc in curves.items():
        ax.plot(np.arange(1, len(acc) + 1), acc, "o-", label=INIT_LABELS[key])
    accuracy_axes(ax, CHANCE, percent=False, epochs=len(next(iter(curves.values()))))
    ax.set_title(f"network2 [784, 30, 10] on {images} images: the two initialisers")
    ax.legend(fontsize=8)
    return fig


def overfitting(runs: dict[float, dict[str, list[float]]], stops: dict[float, dict[str, Any]],
                images: int):
    """network2's four monitors for each lambda; early stopping marked on the unregularised
    run."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    panels = [("training_cost", "cost on the training data"),
              ("validation_accuracy", "accuracy on the validation data"),
              ("validation_cost", "cost on the validation data"),
              ("training_accuracy", "accuracy on the training data")]
    for ax, (key, title) in zip(axes.ravel(), panels):
        for lmbda, run in runs.items():
            values = run[key]
            ax.plot(np.arange(1, len(values) + 1), values, label=f"λ = {lmbda:g}")
        epochs = len(next(iter(runs.values()))[key])
        if key.endswith("accuracy"):
            accuracy_axes(ax, CHANCE, percent=False, epochs=epochs)
        else:
            epoch_axis(ax, epochs)
            ax.set_yscale("log")
            ax.set_ylabel("cost (incl. the L2 term, log scale)")
            ax.grid(True, alpha=0.3)
        stop = stops[0.0]
        if stop["stop_epoch"] is not None:
            ax.axvline(stop["kept_epoch"], color="black", linestyle=":", linewidth=1,
                       label=f"early stopping keeps epoch {stop['kept_epoch']}")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"Overfitting: network2 [784, 30, 10] trained on {images} images")
    fig.tight_layout()
    return fig


def dropout(curves: dict[str, dict[str, list[list[float]]]], p: float):
    """Training (dashed) and validation (solid) accuracy with and without dropout: the mean
    over seeds, the validation band +-1 sd."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (name, runs), color in zip(curves.items(), ("tab:blue", "tab:orange")):
        label = name if name == "plain" else f"dropout p = {p:g}"
        val, train = np.array(runs["validation_accuracy"]), np.array(runs["training_accuracy"])
        epochs = np.arange(1, val.shape[1] + 1)
        ax.plot(epochs, val.mean(axis=0), "-", color=color, label=f"{label}, validation")
        ax.fill_between(epochs, val.mean(axis=0) - val.std(axis=0),
                        val.mean(axis=0) + val.std(axis=0), color=color, alpha=0.2)
        ax.plot(epochs, train.mean(axis=0), "--", color=color, label=f"{label}, training")
    accuracy_axes(ax, CHANCE, percent=False, epochs=len(epochs))
    ax.set_title("Dropout on the hidden neurons, same net and budget")
    ax.legend(fontsize=8)
    return fig


def pooling(grads: dict[str, Any], pool: dict[str, Any], maps: int = 3):
    """The digit, `maps` feature maps, the pooled maps and where a gradient lands."""
    from .. import engine
    from ..nn.conv_functional import max_pool2d
    from ..tensor import Tensor

    plt = pyplot()
    feature, pooled = grads["feature_map"], grads["pooled"]
    x = Tensor(feature[None, :1], dtype=np.float64, requires_grad=True)
    (routed,) = engine.grad(max_pool2d(x, 2).sum(), x)
    fig, axes = plt.subplots(2, maps + 1, figsize=(2.3 * (maps + 1), 5))
    axes[0, 0].imshow(grads["input"], cmap="gray_r")
    axes[0, 0].set_title("input 28 × 28", fontsize=9)
    axes[1, 0].imshow(routed.numpy()[0, 0], cmap="gray_r")
    axes[1, 0].set_title("∂(Σ pooled map 1)/∂map 1:\n1 at each window's arg-max", fontsize=9)
    for k in range(maps):
        axes[0, k + 1].imshow(feature[k], cmap="viridis")
        axes[0, k + 1].set_title(f"map {k + 1}: 24 × 24", fontsize=9)
        axes[1, k + 1].imshow(pooled[k], cmap="viridis")
        axes[1, k + 1].set_title(f"map {k + 1} max-pooled: 12 × 12", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"Convolution (sigmoid) and 2 × 2 max-pooling on a test digit: "
                 f"{pool['input_shape'][1]} → {pool['pooled_shape'][1]}, gradient routed to "
                 f"the arg-max {'exactly' if pool['routing_exact'] else 'NOT exactly'}",
                 fontsize=10)
    fig.tight_layout()
    return fig
