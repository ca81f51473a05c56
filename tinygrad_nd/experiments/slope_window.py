"""Why vanishing is the typical case and exploding the rare one (Nielsen, chapter 5).

A layer multiplies the gradient by w sigma'(z) with z = w a + b. sigma' is at most 1/4 (at
z = 0), so |w sigma'(w a + b)| >= 1 needs |w| >= 4; and a large |w| makes z large, where
sigma' is tiny, unless the input a falls in a narrow window. Nielsen's problem: the window is
at most (2/|w|) ln(|w| (1 + sqrt(1 - 4/|w|)) / 2 - 1) wide. Here the slopes come from the
autograd and the window is measured on a grid of a, then checked against that formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..diagnostics.layers import activation_slope
from .common import pyplot


def slope_curves(z: np.ndarray) -> dict[str, np.ndarray]:
    """sigma'(z) and tanh'(z) from the autograd (`activation_slope`)."""
    return {"sigmoid": activation_slope(nn.Sigmoid(), z), "tanh": activation_slope(nn.Tanh(), z)}


def gain(a: np.ndarray, w: float, b: float) -> np.ndarray:
    """|w sigma'(w a + b)|: how much one sigmoid layer multiplies the gradient, against the
    layer's input activation `a` (sigma' from the autograd)."""
    return np.abs(w * activation_slope(nn.Sigmoid(), w * np.asarray(a, dtype=np.float64) + b))


def window_width(w: float, points: int = 20001) -> float:
    """Measured width of the set of a where |w sigma'(w a + b)| >= 1 (b = -w/2 centres it on
    a = 1/2; b only shifts it): count of grid points in the window x grid spacing, on a grid of
    `points` over an interval wide enough to hold it (the width is at most ~0.45)."""
    a, step = np.linspace(-0.5, 1.5, points, retstep=True)
    return float(np.count_nonzero(gain(a, w, -w / 2) >= 1.0) * step)


def window_width_formula(w: float) -> float:
    """Nielsen's closed form (2/|w|) ln(|w| (1 + sqrt(1 - 4/|w|)) / 2 - 1), 0 for |w| < 4.

    Examples
    --------
    >>> window_width_formula(3.0), round(window_width_formula(100.0), 4)
    (0.0, 0.0917)
    """
    w = abs(w)
    if w < 4:
        return 0.0
    return float(2 / w * np.log(w * (1 + np.sqrt(1 - 4 / w)) / 2 - 1))


def window_study(weights: np.ndarray) -> dict[str, Any]:
    """Measured and closed-form window widths for every |w| in `weights`, and where the
    width peaks (on that grid of weights)."""
    measured = np.array([window_width(w) for w in weights])
    formula = np.array([window_width_formula(w) for w in weights])
    peak = int(np.argmax(measured))
    return {"weights": np.asarray(weights, dtype=np.float64), "measured": measured,
            "formula": formula, "peak_weight": float(weights[peak]),
            "peak_width": float(measured[peak])}


# ---- figures ------------------------------------------------------------------------------
def slopes_figure():
    """sigma'(z) with its maximum 1/4, and tanh'(z)."""
    plt = pyplot()
    z = np.linspace(-6, 6, 601)
    curves = slope_curves(z)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(z, curves["sigmoid"], label="σ'(z) = σ(z)(1 - σ(z))")
    ax.plot(z, curves["tanh"], label="tanh'(z) = 1 - tanh²(z)")
    ax.axhline(0.25, color="gray", linestyle=":", label="1/4, the largest σ'")
    ax.set(title="Slopes of the activations (from the autograd)", xlabel="z",
           ylabel="slope", ylim=(0, 1.05))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def window_figure(study: dict[str, Any], shown: tuple[float, ...] = (2, 4, 6.9, 10, 20, 100)):
    """Left: |w sigma'(w a + b)| against a for several w; right: the window width
    against |w| (measured and closed form)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    a = np.linspace(0, 1, 1001)
    for w in shown:
        left.plot(a, gain(a, w, -w / 2), label=f"w = {w:g}")
    left.axhline(1, color="black", linewidth=0.8, linestyle="--")
    left.set(title="Gain of one sigmoid layer, b = -w/2", xlabel="input activation a",
             ylabel="|w σ'(w a + b)|", yscale="log", ylim=(1e-3, 1e3))
    right.plot(study["weights"], study["measured"], "o", markersize=3,
               label="measured (autograd, grid of a)")
    right.plot(study["weights"], study["formula"], "-", label="Nielsen's closed form")
    right.axvline(4, color="gray", linestyle=":", label="|w| = 4")
    right.set(title="Width of the window where the gain is ≥ 1", xlabel="|w|",
              ylabel="width in a", xscale="log")
    left.legend(fontsize=8, ncol=3, loc="upper left")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig
