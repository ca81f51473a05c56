"""Chapter 5 at initialisation, taken apart: where the small ||delta^l|| of the early layers
comes from, measured by the autograd on Nielsen's sigmoid nets.

* `bias_gradients`: the chapter's first evidence, dC/db of six neurons per hidden layer;
* `layer_arithmetic`: per layer, the upper bound max sigma'(z) x ||W||_2 of the backward
  factor next to the factor the gradient really gets (k hidden layers: k-1 factors between
  the first and the last);
* `weight_regimes`: Nielsen's |w| < 1 argument assumes N(0, 1) weights, his measured nets
  (and ours) use N(0, 1/n_in): both, with the mean slope sigma'(z) of each layer;
* `activation_spread`: how much each layer's output still depends on the image, i.e. why
  a small gradient does not mean we are near a minimum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import engine, nn
from ..diagnostics import ActivationMonitor
from ..diagnostics.diagnose import spectral_norm
from ..diagnostics.layers import activation_layers, activation_slope
from ..tensor import Tensor
from .common import Report, build_net, nielsen_cross_entropy, pyplot

# The two weight laws of the chapter (nn.init scheme names); biases are N(0, 1) in both.
REGIMES = {"nielsen": "N(0, 1/n_in)", "standard": "N(0, 1)"}


def hidden_activity(model: nn.Module, x: Tensor) -> list[tuple[Tensor, Tensor]]:
    """(z, a) of every activation layer of `model` on `x`, input side first, kept by
    forward hooks (graph attached, so the autograd can differentiate with respect to z).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> net = build_net([4, 3, 3, 2])
    >>> [tuple(z.shape) for z, a in hidden_activity(net, tg.randn(5, 4))]
    [(5, 3), (5, 3), (5, 2)]
    """
    kept: list[tuple[Tensor, Tensor]] = []
    handles = [m.register_forward_hook(lambda m, inputs, out: kept.append((inputs[0], out)))
               for _, m in activation_layers(model)]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return kept


def _linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def bias_gradients(model: nn.Module, x: Tensor, y: Tensor, neurons: int = 6
                   ) -> list[np.ndarray]:
    """dC/db of the first `neurons` neurons of each hidden layer for Nielsen's cost on
    (`x`, `y`), from the autograd: the bars of the chapter's first figure."""
    biases = [m.bias for m in _linears(model)][:-1]
    grads = engine.grad(nielsen_cross_entropy(model(x), y), biases)
    return [g.data[:neurons].astype(np.float64) for g in grads]


def layer_arithmetic(model: nn.Module, x: Tensor, y: Tensor) -> list[dict[str, float]]:
    """The backward factor between consecutive hidden layers, bound against realised.

    BP2 says delta^l = sigma'(z^l) * (W^{l+1})^T delta^{l+1}. For hidden layers l = 1..k-1
    (k hidden layers give k-1 factors between the first and the last) this returns:

    * `max_slope`, `mean_slope`: of sigma'(z^l) over the batch (from the autograd);
    * `weight_norm`: ||W^{l+1}||_2, the largest singular value;
    * `bound`: max sigma' x ||W^{l+1}||_2, no example's delta^l can be longer than
      this times its delta^{l+1}; `nielsen_bound` = ||W^{l+1}||_2 / 4 uses sigma' <= 1/4;
    * `realised`: ||delta^l|| / ||delta^{l+1}|| for the actual gradients (Frobenius norm
      over the batch), always <= `bound`;
    * `typical_gain`: ||W^{l+1}||_F / sqrt(n_{l+1}), the gain of (W^{l+1})^T on a random
      direction (E||W^T v||^2 = ||v||^2 ||W||_F^2 / n_{l+1}), and `estimate` = rms
      sigma'(z^l) x `typical_gain`, what the realised factor is close to;
    * `speed_ratio`: ||dC/db^l|| / ||dC/db^{l+1}||, the ratio of the chapter's speeds of
      learning; the product of the k-1 ratios is the first/last ratio.
    """
    activity = hidden_activity(model, x)
    zs = [z for z, _ in activity[:-1]]  # (the last activation is the output layer's)
    deltas = [d.data.astype(np.float64) for d in
              engine.grad(nielsen_cross_entropy(activity[-1][1], y), zs)]
    acts = [m for _, m in activation_layers(model)]
    linears = _linears(model)
    rows = []
    for layer in range(len(zs) - 1):
        slope = activation_slope(acts[layer], zs[layer].data)
        weight = linears[layer + 1].weight.data.astype(np.float64)
        w_norm = spectral_norm(weight)
        typical = float(np.linalg.norm(weight) / np.sqrt(weight.shape[0]))
        rows.append({
            "layer": layer + 1, "max_slope": float(slope.max()),
            "mean_slope": float(slope.mean()), "weight_norm": w_norm,
            "bound": float(slope.max()) * w_norm, "nielsen_bound": w_norm / 4,
            "typical_gain": typical, "estimate": float(np.sqrt((slope ** 2).mean())) * typical,
            "realised": float(np.linalg.norm(deltas[layer]) / np.linalg.norm(deltas[layer + 1])),
            "speed_ratio": float(np.linalg.norm(deltas[layer].sum(axis=0))
                                 / np.linalg.norm(deltas[layer + 1].sum(axis=0)))})
    return rows


def weight_regimes(sizes: list[int], x: Tensor, y: Tensor, seeds: int
                   ) -> dict[str, dict[str, Any]]:
    """For each weight law of `REGIMES`: the mean over `seeds` of every hidden
    layer's speed ||dC/db^l||, its mean slope sigma'(z^l) and its fraction of saturated
    units (sigmoid output within 0.01 of 0 or 1, from `ActivationMonitor`)."""
    out = {}
    for init, law in REGIMES.items():
        speeds, slopes, saturated = [], [], []
        for seed in range(seeds):
            model = build_net(sizes, init=init, seed=seed)
            biases = [m.bias for m in _linears(model)][:-1]
            with ActivationMonitor(model) as monitor:
                activity = hidden_activity(model, x)
            acts = [m for _, m in activation_layers(model)][:-1]
            grads = engine.grad(nielsen_cross_entropy(activity[-1][1], y), biases)
            speeds.append([float(np.linalg.norm(g.data)) for g in grads])
            slopes.append([float(activation_slope(a, z.data).mean())
                           for a, (z, _) in zip(acts, activity)])
            saturated.append([s["saturated"] for s in list(monitor.latest().values())[:-1]])
        mean_speeds = np.mean(speeds, axis=0)
        out[init] = {"law": law, "speeds": mean_speeds.tolist(),
                     "mean_slope": np.mean(slopes, axis=0).tolist(),
                     "saturated": np.mean(saturated, axis=0).tolist(),
                     "first_over_last": float(np.mean([s[0] / s[-1] for s in speeds]))}
    return out


def activation_spread(model: nn.Module, x: Tensor) -> list[dict[str, float]]:
    """Per hidden layer: how much its pre-activations z and outputs a vary *across images*
    (std over the batch, averaged over the layer's neurons), beside the overall spread of z
    and the saturated fraction that `ActivationMonitor` records (which mix in the
    differences between neurons, mostly set by the N(0, 1) biases)."""
    with ActivationMonitor(model) as monitor:
        activity = hidden_activity(model, x)
    stats = list(monitor.latest().values())
    return [{"layer": i + 1, "z_across_images": float(z.data.std(axis=0).mean()),
             "a_across_images": float(a.data.std(axis=0).mean()),
             "z_overall": stats[i]["pre_std"], "saturated": stats[i]["saturated"]}
            for i, (z, a) in enumerate(activity[:-1])]


def at_init_sections(report: Report, x: Tensor, y: Tensor, width: int, depth: int,
                     seeds: int, seed: int) -> dict[str, Any]:
    """Add the report's sections on the nets at initialisation (bars, per-layer arithmetic,
    the two weight laws, the spread across images); return their numbers."""
    bars = bias_gradients(build_net([784, width, width, 10], seed=seed), x, y)
    bar_ratio = float(np.linalg.norm(bars[1]) / np.linalg.norm(bars[0]))
    report.text(f"""
## The chapter's first evidence: six neurons per hidden layer
Nielsen starts from a picture: the gradient ∂C/∂b of six neurons in each hidden layer of
[784, {width}, {width}, 10] at initialisation (weights N(0, 1/n_in), seed {seed}). Here the six
bars of hidden layer 2 are {bar_ratio:.1f}× as long as those of hidden layer 1 (as a vector):
{"the later layer learns faster" if bar_ratio > 1 else "unlike the book's picture"}.
""")
    report.figure(bars_figure(bars, width, seed), "bias_gradients",
                  "∂C/∂b of six neurons per hidden layer at initialisation")

    sizes = [784] + [width] * depth + [10]
    rows = layer_arithmetic(build_net(sizes, seed=seed), x, y)
    product = float(np.prod([r["speed_ratio"] for r in rows]))
    realised = [r["realised"] for r in rows]
    report.text(f"""
## Per-layer arithmetic: bound against realised factor
BP2, δˡ = σ'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹, turns the gradient of layer l+1 into that of layer l. For
the {depth}-hidden-layer net (weights N(0, 1/n_in), seed {seed}, all {len(x)} images), no
example's δˡ can be longer than max σ'(zˡ) × ‖Wˡ⁺¹‖₂ times its δˡ⁺¹: that is an **upper
bound** ({min(r['bound'] for r in rows):.2f}-{max(r['bound'] for r in rows):.2f} here; with
max σ' = {max(r['max_slope'] for r in rows):.3f} it is Nielsen's ‖W‖₂/4). The factor the
gradient **realises**, measured by the autograd, is {min(realised):.2f}-{max(realised):.2f}:
the mean slope is below 1/4 and δˡ⁺¹ is not aligned with W's strongest direction, so Wᵀ gives
it about its typical gain ‖W‖_F/√n, not ‖W‖₂ (the "estimate" column, rms σ' × typical gain,
is close to the realised factor). {depth} hidden layers are linked by {depth - 1} factors, not
{depth}: the product of the {depth - 1} speed ratios is {product:.4f}, which is exactly the
first/last ratio ‖δ¹‖/‖δ^{depth}‖ of this net.
""")
    table = report.table(
        ["factor δˡ ← δˡ⁺¹", "max σ'(zˡ)", "mean σ'(zˡ)", "‖Wˡ⁺¹‖₂", "bound max σ' × ‖W‖₂",
         "typical gain of Wᵀ", "estimate rms σ' × typical", "realised ‖δˡ‖/‖δˡ⁺¹‖",
         "speed ratio"],
        [[f"{r['layer']} ← {r['layer'] + 1}", f"{r['max_slope']:.3f}",
          f"{r['mean_slope']:.3f}", f"{r['weight_norm']:.2f}", f"{r['bound']:.3f}",
          f"{r['typical_gain']:.2f}", f"{r['estimate']:.3f}", f"{r['realised']:.3f}",
          f"{r['speed_ratio']:.3f}"] for r in rows])

    regimes = weight_regimes(sizes, x, y, seeds)
    big, small = regimes["standard"], regimes["nielsen"]
    lit = float((x.data > 0).sum(axis=1).mean())
    report.text(f"""
## Which weights? N(0, 1/n_in) and N(0, 1)
Nielsen's argument that |w σ'(z)| < 1/4 assumes weights N(0, 1), so that |w| < 1 usually;
his measured nets, like every other figure of this report, use network2's default
N(0, 1/n_in) (biases N(0, 1) in both). Both, at initialisation ({depth} hidden layers, mean
over {seeds} seeds): with N(0, 1/n_in) the mean slope is
{min(small['mean_slope']):.2f}-{max(small['mean_slope']):.2f} and at most
{max(small['saturated']):.0%} of a layer's units are saturated (output within 0.01 of 0 or 1):
the gradient shrinks because each layer's factor is about σ' × 1. With N(0, 1) the
pre-activations are large (z¹ sums w x over the {lit:.0f} lit pixels of an average image),
{big['saturated'][0]:.0%} of the first layer's units are saturated and the mean slope drops to
{min(big['mean_slope']):.3f}-{max(big['mean_slope']):.3f}: there the shrinkage comes from
saturation, offset in part by the larger weights (first/last {big['first_over_last']:.3f}
against {small['first_over_last']:.3f}).
""")
    regime_table = report.table(
        ["weights", "‖δˡ‖, layer 1..k", "mean σ'(zˡ)", "saturated units", "first/last"],
        [[r["law"], ", ".join(f"{v:.3f}" for v in r["speeds"]),
          ", ".join(f"{v:.3f}" for v in r["mean_slope"]),
          ", ".join(f"{v:.0%}" for v in r["saturated"]), f"{r['first_over_last']:.3f}"]
         for r in regimes.values()])
    report.figure(regimes_figure(regimes, depth), "weight_regimes",
                  "Speed of learning and mean σ' per layer for both weight laws")

    spread = activation_spread(build_net(sizes, seed=seed), x)
    first, last = spread[0]["a_across_images"], spread[-1]["a_across_images"]
    overall = [s["z_overall"] for s in spread]
    report.text(f"""
## A small gradient does not mean we are near a minimum
Could the early layers learn slowly simply because they have little left to learn? No:
at initialisation each random layer passes on only a fraction of the differences between
images. Across the {len(x)} images, a neuron's output varies by {first:.2g} (std) in hidden
layer 1 and by {last:.2g} in hidden layer {depth}: the last hidden layer gives almost the same
vector for every image, so the output layer cannot tell the digits apart whatever it
learns, and the cost is far from its minimum. `ActivationMonitor` shows that this is not
saturation: the overall spread of z stays at {min(overall):.2f}-{max(overall):.2f} (set by the
N(0, 1) biases, which differ between neurons, not between images) and at most
{max(s['saturated'] for s in spread):.0%} of a layer's units are saturated. The early layers
are the ones that must learn to keep the information, and they are the slowest.
""")
    spread_table = report.table(
        ["hidden layer", "z: std across images", "a: std across images",
         "z: std of all entries", "saturated"],
        [[s["layer"], f"{s['z_across_images']:.2g}", f"{s['a_across_images']:.2g}",
          f"{s['z_overall']:.2f}", f"{s['saturated']:.0%}"] for s in spread])
    report.figure(spread_figure(spread), "activation_spread",
                  "Spread of pre-activations and activations across images, per hidden layer")
    return {"bias_bars": [b.tolist() for b in bars], "bias_bar_ratio": bar_ratio,
            "layer_arithmetic": rows, "factor_product": product, "weight_regimes": regimes,
            "activation_spread": spread, "tables": [table, regime_table, spread_table]}


# ---- figures ------------------------------------------------------------------------------
def bars_figure(bars: list[np.ndarray], width: int, seed: int):
    """The chapter's first figure: dC/db of six neurons per hidden layer, side by side."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(bars), figsize=(3.2 * len(bars), 3.2), sharey=True)
    for i, (ax, values) in enumerate(zip(np.atleast_1d(axes), bars)):
        ax.bar(np.arange(1, len(values) + 1), values, color=f"C{i}")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(f"hidden layer {i + 1}: ‖six bars‖ = {np.linalg.norm(values):.3f}",
                     fontsize=10)
        ax.set_xlabel("neuron")
    np.atleast_1d(axes)[0].set_ylabel("∂C/∂b")
    fig.suptitle(f"∂C/∂b of six neurons per hidden layer at initialisation\n"
                 f"[784, {width}, {width}, 10], weights N(0, 1/n_in), seed {seed}")
    fig.tight_layout()
    return fig


def regimes_figure(regimes: dict[str, dict[str, Any]], k: int):
    """Speeds and mean slopes per layer for both weight laws."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, stats in enumerate(regimes.values()):
        layers = np.arange(1, len(stats["speeds"]) + 1)
        left.semilogy(layers, stats["speeds"], "o-", color=f"C{i}", label=stats["law"])
        right.plot(layers, stats["mean_slope"], "o-", color=f"C{i}", label=stats["law"])
    right.axhline(0.25, color="gray", linestyle=":", label="σ'(0) = 1/4, the maximum")
    left.set(title=f"Speed of learning, {k} hidden layers", xlabel="hidden layer l",
             ylabel="‖δˡ‖ (log scale)", xticks=layers)
    right.set(title="Mean slope σ'(zˡ) of each hidden layer", xlabel="hidden layer l",
              ylabel="mean σ'(z)", xticks=layers, ylim=(0, 0.27))
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("The two weight laws of the chapter at initialisation (biases N(0, 1))")
    fig.tight_layout()
    return fig


def spread_figure(spread: list[dict[str, float]]):
    """Across-image spread of z and a per hidden layer, log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    layers = [s["layer"] for s in spread]
    ax.semilogy(layers, [s["z_across_images"] for s in spread], "o-",
                label="z: std across images")
    ax.semilogy(layers, [s["a_across_images"] for s in spread], "s-",
                label="a = σ(z): std across images")
    ax.semilogy(layers, [s["z_overall"] for s in spread], "x:", color="gray",
                label="z: std of all entries (ActivationMonitor)")
    ax.set(title="How much each layer's output still depends on the image",
           xlabel="hidden layer l (at initialisation)", ylabel="spread (log scale)",
           xticks=layers)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig
