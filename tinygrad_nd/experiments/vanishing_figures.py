"""Figures of the vanishing report: speeds at initialisation, speeds during training (mean and
band over seeds), and the gradient-coloured graphs of a sigmoid net and a healthy net drawn on
one colour scale."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..tensor import Tensor
from .common import Report, build_net, nielsen_cross_entropy, pyplot

NIELSEN_AT_INIT = {2: [0.07, 0.31], 3: [0.012, 0.060, 0.283], 4: [0.003, 0.017, 0.070, 0.285]}


def init_figure(at_init: dict[int, Any], depths: tuple[int, ...], seeds: int):
    """||delta^l|| per hidden layer at initialisation, ours (mean ± sd) and Nielsen's."""
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
    ax.set_ylabel("‖δˡ‖ = ‖∂C/∂bˡ‖ (log scale)")
    ax.set_title(f"Speed of learning at initialisation\n(weights N(0, 1/n_in), {seeds} seeds)")
    ax.set_xticks(range(1, max(depths) + 1))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def training_figure(curves: dict[int, np.ndarray], eta: float, lmbda: float):
    """Per depth, each hidden layer's speed during training: geometric mean over seeds (line)
    and the range over seeds (band). `curves[k]` has shape (seeds, epochs, k)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.8), sharey=True,
                             squeeze=False)
    for ax, (k, runs) in zip(axes[0], curves.items()):
        epochs = np.arange(1, runs.shape[1] + 1)
        for layer in range(runs.shape[2]):
            values = runs[:, :, layer]
            ax.plot(epochs, np.exp(np.log(values).mean(axis=0)), color=f"C{layer}",
                    label=f"layer {layer + 1}")
            ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=f"C{layer}",
                            alpha=0.2)
        ax.set_yscale("log")
        ax.set_title(f"{k} hidden layers")
        ax.set_xlabel("epoch")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("‖δˡ‖ (log scale)")
    seeds = next(iter(curves.values())).shape[0]
    fig.suptitle(f"Speed of learning during training: full-batch gradient descent, eta={eta:g}, "
                 f"lambda={lmbda:g}, weights N(0, 1/n_in)\nline: geometric mean over {seeds} "
                 "seeds, band: smallest to largest")
    fig.tight_layout()
    return fig


def graph_comparison(report: Report, sizes: list[int], x: Tensor, y: Tensor,
                     seed: int) -> dict[str, Any]:
    """Draw the sigmoid net and a healthy one (ReLU hidden layers, He's N(0, 2/n_in)
    weights, the same sigmoid output and cost) one node per layer, coloured by gradient norm
    on one shared scale, side by side; returns the scale and each drawing's range of norms."""
    from .. import viz

    nets = {"sigmoid, N(0, 1/n_in)": build_net(sizes, seed=seed),
            "ReLU + He, N(0, 2/n_in)": build_net(sizes, activation="relu",
                                                  init="kaiming_normal", seed=seed)}
    first = {name: viz.draw_model(net, x, nielsen_cross_entropy, y, collapse=True)
             for name, net in nets.items()}
    vmin = min(g.norm_range[0] for g in first.values())
    vmax = max(g.norm_range[1] for g in first.values())
    graphs = {}
    for name, net in nets.items():
        graphs[name] = viz.draw_model(net, x, nielsen_cross_entropy, y, collapse=True,
                                      vmin=vmin, vmax=vmax)
        graphs[name].attr(label=f"{name}, {len(sizes) - 2} hidden layers", labelloc="t",
                          fontsize="16")
    stems = {name: "graph" if i == 0 else "graph_healthy" for i, name in enumerate(graphs)}
    caption = (f"Computation graphs (one node per layer) of the {len(sizes) - 2}-hidden-layer "
               f"sigmoid net (left) and of the same net with ReLU and He's weights (right), "
               f"coloured by each node's gradient norm on one scale "
               f"({viz.plain_number(vmin)} to {viz.plain_number(vmax)})")
    result = {"vmin": vmin, "vmax": vmax,
              "norm_ranges": {name: list(g.norm_range) for name, g in first.items()}}
    if viz.renderer("png") == "dot":
        path = viz.save_side_by_side(list(graphs.values()), report.folder / "graphs.png")
        report.image(path, caption)
    elif viz.renderer("svg") is not None:  # (the WebAssembly Graphviz draws SVG only)
        for name, graph in graphs.items():
            path = graph.render(report.folder / stems[name], format="svg", cleanup=True)
            report.image(Path(path), f"{name}: {caption}")
    else:  # keep the DOT sources, and say so where the user looks
        for name, graph in graphs.items():
            (report.folder / f"{stems[name]}.dot").write_text(graph.source)
        report.text(f"Graphs: `graph.dot`, `graph_healthy.dot`, not drawn ({viz.INSTALL_HINT})")
        warnings.warn(f"the graph figure was not drawn: {viz.INSTALL_HINT}",
                      viz.GraphvizMissingWarning, stacklevel=3)
    return result
