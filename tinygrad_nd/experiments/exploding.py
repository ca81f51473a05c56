"""Exploding gradients: Nielsen's one-neuron chain with w = 100, why large gains are rare (the
slope window of `.slope_window`), and a wide net with large weights that diverges under
SGD unless its gradients are clipped."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine
from ..tensor import Tensor
from .common import Report, finish, load_images, pyplot
from .exploding_remedies import (
    REMEDIES,
    REMEDIES_HEADERS,
    remedies_figure,
    remedies_rows,
    train_wide,
)
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
    moderate_init_std : float, default 0.26
        A second, smaller weight scale for the wide net, at which training stays finite and
        the L2/L1 rows can show what the penalties change.
    l2 : float, default 0.1
        Strength of the L2 penalty (l2 / 2) * sum(w^2) in the L2 row.
    l1 : float, default 0.03
        Strength of the L1 penalty l1 * sum(|w|) in the L1 row.
    images : int, default 500
        Training images of the wide net.
    test_images : int, default 1000
        Held-out images its test accuracy is measured on.
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
    moderate_init_std: float = 0.26
    lr: float = 0.05
    steps: int = 60
    clip: float = 1.0
    l2: float = 0.1
    l1: float = 0.03
    images: int = 500
    test_images: int = 1000
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

    wide, text = _wide_section(report, cfg, text)
    results = {"config": asdict(cfg),
               "chain": {k: np.asarray(v).tolist() for k, v in chain.items()},
               "wide": wide}
    results["window"] = {k: np.asarray(v).tolist() for k, v in study.items()}
    report.text(f"""
## How this differs from the book
The chain is the book's example exactly (w = {cfg.weight:g}, z_j = 0, so σ'(z_j) = 1/4);
Nielsen states the factor of 25 per layer, we also print every dC/db_j and compare it with
the closed form. The window width is his end-of-section problem, solved here numerically and
checked against its closed form. The wide ReLU net, gradient clipping and the L1/L2
penalties against exploding are not in chapter 5 (clipping by norm is Pascanu, Mikolov &
Bengio 2013, who also discuss an L1 or L2 penalty on the recurrent weights to keep their
spectral radius below 1; Nielsen uses L1/L2 in chapter 3 against overfitting). The wide
net trains on {cfg.images} images for {cfg.steps} full-batch steps, not on 50,000 images for
epochs: it measures what happens to the gradient in the first steps, not a finished
classifier.
""")
    report.parts.insert(0, _what_this_shows(cfg, chain, study, results["wide"]))
    return finish(report, results, text, verbose)


def _wide_section(report: Report, cfg: ExplodingConfig, text: str
                  ) -> tuple[dict[str, Any], str]:
    """Train the wide net with each remedy at two initial weight scales; add the section."""
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, cfg.test_images, seed=cfg.seed)
    x = Tensor(xs)
    sizes = [784] + [cfg.width] * cfg.hidden + [10]
    scales = {f"N(0, {std:g}²)": std for std in (cfg.init_std, cfg.moderate_init_std)}
    runs = {name: {remedy: train_wide(sizes, std, remedy, x, ys, cfg.steps, cfg.lr, cfg.clip,
                                      cfg.l2, cfg.l1, cfg.seed, (xt, yt))
                   for remedy in REMEDIES} for name, std in scales.items()}
    large, moderate = runs.values()
    grads = np.asarray(large["no remedy"]["bias_grad_at_start"])
    report.text(f"""
## A wide ReLU net with large weights, and four ways to treat it
[784, {cfg.width} x {cfg.hidden}, 10], ReLU, weights N(0, {cfg.init_std}^2) (He's choice would be
{np.sqrt(2 / cfg.width):.3f}), softmax cross-entropy, {cfg.steps} steps of full-batch SGD
(lr = {cfg.lr}) on {cfg.images} images of {label}, test accuracy on {len(yt)} others. Every
run starts from the same weights: no remedy; `clip_grad_norm_(max_norm={cfg.clip})`; an L2
penalty ({cfg.l2:g}/2) Σ w² and an L1 penalty {cfg.l1:g} Σ |w| added to the loss (on the
weights, not the biases, as network2). The same four runs are repeated from smaller weights,
N(0, {cfg.moderate_init_std}^2), where the gradient still grows towards the input but SGD
does not blow up. A loss that becomes inf or NaN ends the run ("diverged").
""")
    text += "\n\n" + report.table(
        ["layer", "‖dC/db‖ at step 1", "vs last layer"],
        [[i + 1, f"{g:.3g}", f"{g / grads[-1]:.3g}"] for i, g in enumerate(grads)])
    text += "\n\n" + report.table(REMEDIES_HEADERS, remedies_rows(runs))
    report.figure(remedies_figure(runs), "wide_remedies",
                  "Loss, gradient norm and the first/last hidden speed ratio per step, for "
                  "each remedy and both initial weight scales")
    report.text(_penalty_mechanism(cfg, large, moderate))
    wide = {"grad_at_init": grads.tolist(), "runs": runs,
            "plain_diverged": large["no remedy"]["diverged"],
            "clipped_diverged": large["clipping"]["diverged"]}
    return wide, text


def _ending(run: dict[str, Any]) -> str:
    """How a run ended, in words."""
    if run["diverged"]:
        return f"diverges at step {len(run['loss'])}"
    return f"stays finite (loss {run['loss'][-1]:.3g}, test accuracy {run['accuracy']:.1%})"


def _penalty_mechanism(cfg: ExplodingConfig, large: dict[str, Any],
                       moderate: dict[str, Any]) -> str:
    """The paragraph on how the weight penalties act, from the measured runs."""
    def shrink(run: dict[str, Any]) -> float:
        return run["weight_norm"][-1] / run["weight_norm_at_start"]

    steps = len(moderate["L2"]["loss"])
    per_step = 1 - cfg.lr * cfg.l2
    plain_steps = len(large["no remedy"]["loss"])
    overshoot = ""
    if max(moderate["L2"]["first_over_last"][-1], moderate["L1"]["first_over_last"][-1]) < 1:
        overshoot = (" From the smaller weights both penalties end with the first hidden "
                     "layer learning slower than the last: pushed too far, a cure for "
                     "exploding gradients becomes a vanishing one.")
    return f"""
**How a weight penalty acts.** The gradient of the L2 term is λw, so each SGD step multiplies
every weight by 1 - lr·λ = {per_step:.4g} before the data's update (L1 subtracts lr·λ·sign(w),
{cfg.lr * cfg.l1:.2g} per step). Smaller weights mean a smaller per-layer gain |w σ'| (for
ReLU σ' is 0 or 1, so the gain is the weights'), hence a smaller product of gains from the
output back to the first layer. Measured from N(0, {cfg.moderate_init_std}²): after {steps}
steps the weights' norm is {shrink(moderate['L2']):.2f}× its initial value with L2 and
{shrink(moderate['L1']):.2f}× with L1, against {shrink(moderate['no remedy']):.2f}× with no
remedy, and the first hidden layer's ‖dC/db‖ over the last hidden layer's goes from
{moderate['no remedy']['first_over_last'][0]:.3g} at step 1 to
{moderate['L2']['first_over_last'][-1]:.3g} (L2) and {moderate['L1']['first_over_last'][-1]:.3g}
(L1), against {moderate['no remedy']['first_over_last'][-1]:.3g} with no remedy. The runs end:
no remedy {_ending(moderate['no remedy'])}, L2 {_ending(moderate['L2'])}, L1
{_ending(moderate['L1'])}, clipping {_ending(moderate['clipping'])}.

From N(0, {cfg.init_std}²) the penalty is too slow: no remedy {_ending(large['no remedy'])},
L2 {_ending(large['L2'])}, L1 {_ending(large['L1'])}, clipping
{_ending(large['clipping'])}. In {plain_steps} steps L2 can shrink the weights only to
{per_step ** plain_steps:.3f} of their size, while the first step alone moves them by
lr·‖∇‖ = {cfg.lr * large['no remedy']['grad_norm'][0]:.3g}, against their norm of
{large['no remedy']['weight_norm_at_start']:.3g}: a penalty tames a gain that builds up over
training, clipping bounds the step itself and binds at once.{overshoot}
"""


def _what_this_shows(cfg: ExplodingConfig, chain: dict[str, Any], study: dict[str, Any],
                     wide: dict[str, Any]) -> str:
    """The opening paragraph, written from the measured numbers (it goes first, written last)."""
    growth = chain["measured"][0] / chain["measured"][1] if cfg.chain_length > 1 else 1.0
    if wide["plain_diverged"] and not wide["clipped_diverged"]:
        ending = ("plain SGD diverges, and clipping the gradient norm keeps the loss finite")
    else:
        ending = "with these settings plain SGD did not diverge"
    large, moderate = wide["runs"].values()
    penalties = (f"An L2 or L1 weight penalty shrinks the weights, hence every layer's gain: "
                 f"from smaller initial weights it brings the first hidden layer's gradient "
                 f"from {moderate['no remedy']['first_over_last'][0]:.3g}× the last hidden "
                 f"layer's to {moderate['L2']['first_over_last'][-1]:.3g}× (L2), but against "
                 f"the large weights it acts too slowly: "
                 f"{'it diverges too' if large['L2']['diverged'] else 'it stays finite'}.")
    return f"""## What this shows
Backpropagation multiplies the gradient by one factor w σ'(z) per layer, so the gradient of an
early layer is a product of many factors: unstable. In Nielsen's chain of one-neuron layers
with w = {cfg.weight:g} every factor is w/4 = {cfg.weight / 4:g}, and the autograd's gradient
grows {growth:.4g}× per layer towards the input. But σ' is at most 1/4, and a large w pushes
z = w a + b to where σ' is tiny unless a falls into a window at most
{study['peak_width']:.2f} wide: a factor above 1 is rare, which is why sigmoid nets usually
vanish rather than explode. In a wide ReLU net with too-large weights the gradient does
explode: {ending}. {penalties}
"""


def _closed_form_text(target: float) -> str:
    """The chain's closed form written for the target y, e.g. (w/4)^(L-j)/8 for y = 0."""
    scale = abs(0.5 - target) / 4
    if scale == 0:
        return "0 (a_L = y)"
    return f"(w/4)^(L-j)/{1 / scale:g}" if (1 / scale).is_integer() else \
        f"(w/4)^(L-j) x {scale:g}"
