"""The Markdown report of `tinygrad-nd remedies`: every sentence with a number is written
from the numbers of the same run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .common import Report, accuracy_axes, pyplot
from .remedy_variants import ADAM_GRID, MOMENTUM_GRID, SGD_GRID, Remedy

RESCUED = 0.5  # mean test accuracy after the longer budget that counts as "learns"
CHANCE_PLUS = 0.2  # below this validation accuracy a grid point learnt next to nothing


def _pct(values: Sequence[float]) -> float:
    return 100 * float(np.nanmean(values))


def mean_sd(values: Sequence[float]) -> str:
    """`mean ± sd` in percent over seeds (sample sd), or a count of diverged runs."""
    finite = np.array([v for v in values if np.isfinite(v)])
    if len(finite) < len(values):
        return f"diverged in {len(values) - len(finite)} of {len(values)}"
    sd = finite.std(ddof=1) if len(finite) > 1 else 0.0
    return f"{100 * finite.mean():.1f} ± {100 * sd:.1f}%"


def _grid(values: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _notes(name: str, v: dict[str, Any], remedy: Remedy) -> str:
    notes = []
    if remedy.clip:
        notes.append(f"clipped {v['clipped']:.0%} of steps")
    if max((a for a in v["grid"].values() if np.isfinite(a)), default=0.0) < CHANCE_PLUS:
        notes.append("no lr of the grid left chance")
    elif v["lr"] in (remedy.lr_grid[0], remedy.lr_grid[-1]):
        notes.append("lr at the grid's edge")
    if v["diverged"]:
        notes.append(f"diverged in {v['diverged']} seed(s)")
    return "; ".join(notes) or "-"


def _opening(report: Report, results: dict[str, Any], cfg: Any, remedies: Sequence[Remedy]
             ) -> None:
    variants = results["variants"]
    base = variants.get("sigmoid (baseline)")
    learn = [n for n, v in variants.items() if np.nanmean(v["long"]) >= RESCUED]
    base_text = ""
    if base is not None:
        base_text = (f"The sigmoid net of chapter 5 with {cfg.hidden} hidden layers starts with "
                     f"its first hidden layer learning {1 / base['ratio_init']:.0f} times more "
                     f"slowly than its last, and after {cfg.long_epochs} epochs it is at "
                     f"{_pct(base['long']):.0f}% test accuracy (chance: 10%). ")
    report.text(f"""
## What this shows

{base_text}Each row changes one thing, the activation, a layer, the optimizer, a penalty,
gradient clipping or the starting weights, and trains the same net from the same seeds with
the learning rate that suits it best. "first/last" says how evenly the layers learn (1: all
equally fast); the accuracy columns say what each remedy achieves, as mean ± sd over
{cfg.seeds} seeds. In this run {len(learn)} of {len(variants)} rows reach
{100 * RESCUED:.0f}% within the longer budget: {', '.join(learn) or 'none'}. Clipping and
weight penalties, remedies for *exploding* gradients, can only make gradients smaller, so they
cannot be expected to fix vanishing ones.
""")


def _setup(report: Report, results: dict[str, Any], cfg: Any, label: str, n_fit: int,
           n_val: int, n_test: int) -> None:
    steps = -(-n_fit // cfg.batch_size)
    report.text(f"""
## Setup

Net [784, {cfg.width} x {cfg.hidden}, 10] with softmax cross-entropy, mini-batches of
{cfg.batch_size} from {n_fit:,} training images of {label} ({steps} steps per epoch), in the
same order for every row (seed {cfg.seed} upwards). Each row's learning rate is the best of a
grid on {n_val:,} validation images held out of the training images, after the equal budget
of {cfg.epochs} epoch(s) with seed {cfg.seed} (SGD: {_grid(SGD_GRID)}; Nesterov momentum 0.9:
{_grid(MOMENTUM_GRID)}; Adam: {_grid(ADAM_GRID)}). With that rate every row is then trained from
{cfg.seeds} seeds for {cfg.long_epochs} epochs; the accuracies are on all {n_test:,} test
images, after {cfg.epochs} epoch(s) (equal budget) and after {cfg.long_epochs}.

"first/last" is ||dC/db|| of the first hidden layer over that of the last hidden layer
(Nielsen's speed of learning; for BatchNorm nets, of BatchNorm's beta, since the Linear's
bias gets no gradient through the mean subtraction), as backpropagated (before any
clipping): at the first step and the geometric mean over all steps, geometric means over the
seeds. "update first/last" is the same ratio for the relative weight change ||dW||/||W|| per
step, which matters more for Adam and momentum, whose steps are not proportional to the
gradient.

Remedy strengths: clipping thresholds are {cfg.clip_fraction:g} of the baseline's median
joint gradient norm (for the norm: {results['clip_norm']:.3g}) and median largest gradient
element (for the value: {results['clip_value']:.3g}) over its first 20 mini-batches, so that
they bind; L2 weight decay {cfg.l2:g} per step (network2's lambda/n), L1 penalty
{cfg.l1:g} x sum |w|; dropout p=0.2 after each hidden activation; pre-training, on the
training images without labels, then the same fine-tuning as every other row: each hidden
layer as a sigmoid autoencoder for {cfg.pretrain_epochs} epoch(s) of Adam
(lr {cfg.pretrain_lr:g}), or as an RBM for {cfg.rbm_epochs} epoch(s) of CD-1
(lr {cfg.rbm_lr:g}).
""")


def _main_table(report: Report, results: dict[str, Any], cfg: Any,
                remedies: Sequence[Remedy]) -> str:
    rows, grid_rows = [], []
    by_name = {r.name: r for r in remedies}
    for name, v in results["variants"].items():
        rows.append([name, f"{v['lr']:g}", mean_sd(v["equal"]), mean_sd(v["long"]),
                     f"{v['ratio_init']:.3g}", f"{v['ratio_train']:.3g}",
                     f"{v['update_ratio']:.3g}", _notes(name, v, by_name[name])])
        grid_rows.append([name, ", ".join(
            f"{lr:g}: {'diverged' if not np.isfinite(a) else f'{100 * a:.1f}%'}"
            for lr, a in v["grid"].items())])
    report.text("## Results")
    text = report.table(["variant", "lr", f"accuracy, {cfg.epochs} epoch(s)",
                         f"accuracy, {cfg.long_epochs} epochs", "first/last at init",
                         "first/last in training", "update first/last", "notes"], rows)
    report.text("Learning-rate tuning (validation accuracy after the equal budget, seed "
                f"{cfg.seed}):")
    report.table(["variant", "learning rate: validation accuracy"], grid_rows)
    return text


def _figures(report: Report, results: dict[str, Any], cfg: Any) -> None:
    plt = pyplot()
    variants = results["variants"]
    names = list(variants)
    pos = np.arange(len(names))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 0.45 * len(names) + 1.5))
    ax1.barh(pos, [variants[n]["ratio_train"] for n in names])
    ax1.axvline(1.0, color="gray", linestyle=":")
    ax1.set_xscale("log")
    ax1.set_yticks(pos, names)
    ax1.invert_yaxis()
    ax1.set_xlabel("first / last hidden layer ‖dC/db‖, training mean (log)")
    ax1.set_title("How evenly the layers learn")
    for offset, key, epochs, colour in ((-0.2, "equal", cfg.epochs, "C1"),
                                        (0.2, "long", cfg.long_epochs, "C2")):
        means = [_pct(variants[n][key]) for n in names]
        sds = [100 * np.nanstd(variants[n][key], ddof=1) if cfg.seeds > 1 else 0.0
               for n in names]
        ax2.barh(pos + offset, means, height=0.4, xerr=sds, color=colour,
                 label=f"after {epochs} epoch(s)")
    ax2.axvline(10, color="gray", linestyle=":", label="chance (10%)")
    ax2.set_yticks(pos, [""] * len(names))
    ax2.invert_yaxis()
    ax2.set_xlabel(f"test accuracy (%), mean ± sd over {cfg.seeds} seeds")
    ax2.set_title("What each remedy achieves")
    ax2.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    report.figure(fig, "remedies", "Left: gradient ratio per remedy (1: all layers equally "
                                   "fast). Right: test accuracy after both budgets.")
    fig, ax = plt.subplots(figsize=(8, 5))
    cmap = plt.get_cmap("tab20")
    for i, n in enumerate(names):
        curve = 100 * np.nanmean(np.array(variants[n]["curves"]), axis=0)
        ax.plot(range(1, len(curve) + 1), curve, label=n, color=cmap(i % 20), marker=".")
    accuracy_axes(ax)
    ax.set_title(f"Test accuracy per epoch (mean over {cfg.seeds} seeds)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    report.figure(fig, "curves", "Test accuracy after each epoch, every remedy")


PRETRAINED = {"sigmoid + AE pre-training": ("autoencoder", "stacked autoencoders",
                                             "reconstruction cross-entropy (summed over units)"),
              "sigmoid + RBM pre-training": ("rbm", "stacked RBMs (CD-1)",
                                             "mean squared reconstruction error of CD-1")}


def _pretraining(report: Report, results: dict[str, Any], cfg: Any) -> None:
    variants = results["variants"]
    base = variants.get("sigmoid (baseline)")
    rows = [(variants[name], *PRETRAINED[name]) for name in PRETRAINED if name in variants]
    if base is None or not rows:
        return
    paragraphs = []
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, curve in enumerate(base["curves"]):
        ax.plot(range(1, len(curve) + 1), [100 * c for c in curve], color="C0", alpha=0.7,
                label="random init" if i == 0 else None)
    for colour, (pre, kind, label, loss_name) in zip(("C3", "C2"), rows):
        for i, curve in enumerate(pre["curves"]):
            ax.plot(range(1, len(curve) + 1), [100 * c for c in curve], color=colour,
                    alpha=0.7, label=label if i == 0 else None)
        gain_equal = _pct(pre["equal"]) - _pct(base["equal"])
        gain_long = _pct(pre["long"]) - _pct(base["long"])
        verdict = "beats" if gain_equal > 0 and gain_long > 0 else "does not beat"
        evenness = ("besides a better starting point, it makes the early layers learn far more "
                    "evenly with the late ones when fine-tuning begins."
                    if pre["ratio_init"] > 10 * base["ratio_init"] else
                    "it hardly changes how evenly the layers learn; what it gives is a better "
                    "starting point.")
        losses = results.get("pretraining_loss", {}).get(f"{kind} seed {cfg.seed}", [])
        paragraphs.append(f"""
**{label[0].upper() + label[1:]}** (fine-tuning lr {pre['lr']:g}) {verdict} random initialisation
here: {mean_sd(pre['equal'])} against {mean_sd(base['equal'])} after {cfg.epochs} epoch(s)
({gain_equal:+.1f} points), and {mean_sd(pre['long'])} against {mean_sd(base['long'])} after
{cfg.long_epochs} ({gain_long:+.1f} points). The first/last ratio at the start of fine-tuning
is {pre['ratio_init']:.3g}, against {base['ratio_init']:.3g} from random weights: {evenness}
Per-layer {loss_name} at the end of pre-training (seed {cfg.seed}):
{', '.join(f'{v:.3g}' for v in losses)}.
""")
    accuracy_axes(ax)
    ax.set_title("Deep sigmoid net: pre-trained vs random init, each seed")
    ax.legend()
    report.text(f"""
## Layer-wise pre-training against random initialisation

Same net, same seeds, same fine-tuning (SGD for {cfg.long_epochs} epochs, each row with its
own tuned learning rate; {base['lr']:g} for random init).
""" + "".join(paragraphs))
    report.figure(fig, "pretraining", "Test accuracy per epoch of each seed, random init "
                                      "and pre-trained (dotted: chance)")


def _batchnorm(report: Report, results: dict[str, Any], cfg: Any) -> str:
    bn = results["batchnorm"]
    plain, norm = bn["plain"], bn["batchnorm"]
    rows = []
    for layer in range(cfg.hidden):
        gain_plain = f"{plain['layer_gain'][layer]:.3g}" if layer < cfg.hidden - 1 else "-"
        gain_bn = f"{norm['layer_gain'][layer]:.3g}" if layer < cfg.hidden - 1 else "-"
        rows.append([f"hidden {layer + 1}", f"{plain['mean_slope'][layer]:.3f}",
                     f"{norm['mean_slope'][layer]:.3f}", gain_plain, gain_bn,
                     f"{norm['bn_gain'][layer]:.3g}", f"{norm['inv_std'][layer]:.3g}"])
    report.text(f"""
## How BatchNorm helps: the backward through the normalisation

A common explanation is that BatchNorm "keeps sigma'(z) away from 0". At initialisation
that is not what happens here: the mean slope sigma'(z) over all hidden units is
{plain['overall_slope']:.3f} without BatchNorm and {norm['overall_slope']:.3f} with it.
What changes is the backward pass through z = gamma (u - mean u) / std u + beta: the autograd
divides the gradient reaching u by the batch standard deviation of u, which is small for
N(0, 1/n_in) weights on inputs in [0, 1]. Measured with the autograd (||dC/du|| /
||dC/dz|| at each BatchNorm layer, same nets as above, mean over {cfg.seeds} seed(s), on up to
1,000 training images), that backward multiplies the gradient by
{min(norm['bn_gain']):.2g}-{max(norm['bn_gain']):.2g} per layer, close to the mean 1/std of
u ({min(norm['inv_std']):.2g}-{max(norm['inv_std']):.2g}). This undoes sigma''s shrinkage:
the gradient's gain from one hidden layer to the one before it, ||delta^l|| /
||delta^(l+1)||, is {np.mean(plain['layer_gain']):.3g} on average without BatchNorm and
{np.mean(norm['layer_gain']):.3g} with it, and the first/last ratio goes from
{plain['first_over_last']:.3g} to {norm['first_over_last']:.3g}.
""")
    text = report.table(["layer", "mean σ'(z), no BN", "mean σ'(z), BN",
                         "‖δˡ‖/‖δˡ⁺¹‖, no BN", "‖δˡ‖/‖δˡ⁺¹‖, BN",
                         "BN backward gain ‖dC/du‖/‖dC/dz‖", "mean 1/std(u)"], rows)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    layers = np.arange(1, cfg.hidden)
    ax.plot(layers, plain["layer_gain"], "o-", label="layer gain, no BatchNorm")
    ax.plot(layers, norm["layer_gain"], "s-", label="layer gain, with BatchNorm")
    ax.plot(np.arange(1, cfg.hidden + 1), norm["bn_gain"], "^--",
            label="backward gain of BatchNorm alone")
    ax.axhline(1.0, color="gray", linestyle=":")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(1, cfg.hidden + 1))
    ax.set_xlabel("hidden layer l")
    ax.set_ylabel("gain of ‖dC/dz‖ (log)")
    ax.set_title("Where BatchNorm's help comes from (at initialisation)")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.2, not 2x10^-1
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8, loc="center right")
    report.figure(fig, "batchnorm", "Per-layer gains measured by the autograd: sigma' "
                                    "shrinks the gradient, BatchNorm's backward restores it")
    return text


def _row_notes(report: Report, results: dict[str, Any], remedies: Sequence[Remedy]) -> None:
    lines = ["## Reading the rows", ""]
    for remedy in remedies:
        v = results["variants"][remedy.name]
        extra = ""
        if remedy.clip == "norm":
            extra = (f" The threshold bound in {v['clipped']:.0%} of steps; when it binds "
                     "every step, clipping by norm is normalised gradient descent with step "
                     "size lr x threshold, which the tuned lr adjusts.")
        elif remedy.clip == "value":
            extra = (f" The threshold bound in {v['clipped']:.0%} of steps; capping single "
                     "elements also turns the gradient, unlike clipping by norm.")
        if remedy.penalty or remedy.name == "sigmoid (baseline)":
            extra += f" Mean spectral norm of the weight matrices at the end: " \
                     f"{v['weight_norm']:.3g}."
        lines.append(f"- **{remedy.name}** (lr {v['lr']:g}): {remedy.why}. first/last "
                     f"{v['ratio_train']:.3g} in training, accuracy {mean_sd(v['long'])}."
                     + extra)
    report.text("\n".join(lines))


def _differences(report: Report, cfg: Any, n_fit: int) -> None:
    steps = cfg.long_epochs * -(-n_fit // cfg.batch_size)
    report.text(f"""
## How this differs from the book and the papers

- Nielsen's chapter 5 names these remedies without measuring them; our net is his
  [784, 30 x k, 10] with a softmax output instead of his sigmoid output layer.
- Budgets are tiny: at most {steps:,} mini-batch steps on {n_fit:,} images, so the table
  measures how fast each remedy gets going more than what it finally achieves; a row still at
  chance or still climbing at the end of the curves may catch up with a longer run
  (`--epochs`, `--long-epochs`, `--images`).
- Learning rates come from a three- or four-point grid tuned on one seed for the short budget and
  reused for the longer one; a rate at the grid's edge is marked in the notes.
- Hinton et al. (2006) pre-trained with RBMs (contrastive divergence) and Bengio et al.
  (2007) with autoencoders, both on all 60,000 MNIST images for many epochs and with much
  wider layers; we pre-train 30-unit layers for a few epochs on a few thousand images, the
  autoencoders with Adam rather than plain SGD, the RBMs with plain CD-1 (no momentum, no
  weight decay, no persistent chains).
- Sutskever et al. (2013) used momentum up to 0.99 with a schedule over very long runs on
  deep autoencoders; we use Nesterov momentum 0.9 for a few epochs.
- The BatchNorm measurement is at initialisation; during training gamma, beta and the
  weights change, and the gain with them.
""")


def write_remedies_report(report: Report, results: dict[str, Any], cfg: Any, label: str,
                          n_fit: int, n_val: int, n_test: int,
                          remedies: Sequence[Remedy]) -> str:
    """Fill `report` from `results`; returns the tables as plain text for printing."""
    _opening(report, results, cfg, remedies)
    _setup(report, results, cfg, label, n_fit, n_val, n_test)
    text = _main_table(report, results, cfg, remedies)
    _figures(report, results, cfg)
    _row_notes(report, results, remedies)
    _pretraining(report, results, cfg)
    text += "\n\n" + _batchnorm(report, results, cfg)
    _differences(report, cfg, n_fit)
    return text
