"""The wide ReLU net of `tinygrad-nd exploding` trained four ways, from the same initial
weights and on the same images: no remedy, gradient clipping by norm, an L2 and an L1 weight
penalty. Each run records, per step, the loss, the total gradient norm, the norm of all
weights and the first hidden layer's ‖dC/db‖ over the last hidden layer's (the chapter's
speed ratio: above 1 means the gradient grows towards the input)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd, nn, optim
from ..diagnostics.norms import l2_norm
from ..tensor import Tensor
from .common import accuracy, build_net, progress, pyplot

REMEDIES = ("no remedy", "clipping", "L2", "L1")


def wide_net(sizes: list[int], init_std: float, seed: int = 0) -> nn.Sequential:
    """A ReLU net with N(0, init_std**2) weights and zero biases (no output activation)."""
    model = build_net(sizes, activation="relu", init="zeros", output=None, seed=seed)
    gen = np.random.default_rng(seed)
    with autograd.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(gen.normal(0, init_std, m.weight.shape))
    return model


def weight_penalty(weights: list[Tensor], remedy: str, l2: float, l1: float) -> Tensor | float:
    """The term added to the loss: (l2/2) Σ w² for "L2", l1 Σ |w| for "L1", else 0. Its
    gradient, l2 w or l1 sign(w), pulls every weight towards 0 by lr·l2·w or lr·l1 per step."""
    if remedy == "L2":
        return sum((w * w).sum() for w in weights) * (l2 / 2)
    if remedy == "L1":
        return sum(w.abs().sum() for w in weights) * l1
    return 0.0


def train_wide(sizes: list[int], init_std: float, remedy: str, x: Tensor, y: np.ndarray,
               steps: int, lr: float, clip: float, l2: float, l1: float, seed: int = 0,
               test: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Full-batch SGD on softmax cross-entropy with one of `REMEDIES`; stops at the first
    non-finite loss. Returns per-step lists `loss` (cross-entropy, without the penalty),
    `grad_norm` (total ‖∇‖ of the loss, without the
    penalty's share, before clipping), `weight_norm` (‖all W‖ after
    the step; `weight_norm_at_start` before training), `first_over_last` (‖dC/db‖ of
    hidden 1 over the last hidden layer's), `bias_grad_at_start` (per layer, step 1),
    `diverged` and the test `accuracy` (None when diverged or without `test`).

    Examples
    --------
    >>> from tinygrad_nd import Tensor
    >>> x, y = Tensor(np.random.default_rng(0).normal(size=(8, 4))), np.arange(8) % 2
    >>> run = train_wide([4, 6, 6, 2], 0.5, "L2", x, y, steps=3, lr=0.1, clip=1.0,
    ...                  l2=0.1, l1=0.0)
    >>> len(run["loss"]), run["diverged"]
    (3, False)
    """
    if remedy not in REMEDIES:
        raise ValueError(f"train_wide: remedy must be one of {REMEDIES}, got {remedy!r}")
    model = wide_net(sizes, init_std, seed)
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    params = list(model.parameters())
    opt = optim.SGD(params, lr=lr)
    run: dict[str, Any] = {"loss": [], "grad_norm": [], "weight_norm": [],
                           "first_over_last": [],
                           "weight_norm_at_start": float(np.sqrt(sum(l2_norm(w) ** 2
                                                                     for w in weights)))}
    biases = [m.bias for m in model.modules() if isinstance(m, nn.Linear)]
    for _ in progress(range(steps), desc=f"training ({remedy})", unit="step"):
        with np.errstate(all="ignore"):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            # the loss's gradient alone: biases carry no penalty, weights get it below
            speeds = [l2_norm(b.grad) for b in biases]
            run["first_over_last"].append(float(np.divide(speeds[0], speeds[-2])))  # last hidden
            run.setdefault("bias_grad_at_start", speeds)
            run["grad_norm"].append(float(np.sqrt(sum(l2_norm(p.grad) ** 2 for p in params))))
            penalty = weight_penalty(weights, remedy, l2, l1)
            if isinstance(penalty, Tensor):
                penalty.backward()  # adds the penalty's gradient to the loss's
            if remedy == "clipping":
                nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            run["weight_norm"].append(float(np.sqrt(sum(l2_norm(w) ** 2 for w in weights))))
        run["loss"].append(float(loss.item()))
        if not np.isfinite(run["loss"][-1]):
            break
    # the last step can leave non-finite weights behind a finite loss
    run["diverged"] = bool(not np.isfinite(run["loss"][-1] * run["weight_norm"][-1]))
    run["accuracy"] = None
    if test is not None and not run["diverged"]:
        with np.errstate(over="ignore", invalid="ignore"):  # huge but finite weights
            run["accuracy"] = accuracy(model, *test)
    return run


def remedies_figure(runs: dict[str, dict[str, dict[str, Any]]]):
    """One row per initial weight scale: loss, total gradient norm and the first/last hidden
    speed ratio over the steps, one curve per remedy."""
    plt = pyplot()
    fig, axes = plt.subplots(len(runs), 3, figsize=(13, 3.6 * len(runs)), squeeze=False)
    panels = (("loss", "training loss (cross-entropy)"),
              ("grad_norm", "‖∇ loss‖ (no penalty term), before clipping"),
              ("first_over_last", "‖dC/db‖ hidden 1 / last hidden"))
    for row, (regime, by_remedy) in zip(axes, runs.items()):
        for ax, (key, label) in zip(row, panels):
            for remedy, run in by_remedy.items():
                values = np.asarray(run[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, label=remedy,
                        linestyle=":" if remedy == "L1" else "-")
            ax.set_yscale("log")
            ax.set_xlabel("step")
            ax.set_ylabel(label)
            ax.set_title(regime, fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
        row[-1].axhline(1.0, color="gray", linewidth=1)
        row[0].legend(fontsize=8)
    fig.suptitle("Wide ReLU net: no remedy, clipping, L2 and L1 from the same initial weights "
                 "(a curve that stops: the loss became inf/NaN)")
    fig.tight_layout()
    return fig


def remedies_rows(runs: dict[str, dict[str, dict[str, Any]]]) -> list[list[Any]]:
    """Table rows: regime, remedy, steps run, max and final ‖∇‖, final loss, accuracy,
    weight norm end/start, speed ratio hidden 1 / last hidden at the start and at the end."""
    rows = []
    for regime, by_remedy in runs.items():
        for remedy, run in by_remedy.items():
            n = len(run["loss"])
            ended = (f"diverged at step {n}" if run["diverged"] else f"{n} steps")
            final = [run["grad_norm"][-1], run["loss"][-1],
                     run["weight_norm"][-1] / run["weight_norm_at_start"],
                     run["first_over_last"][-1]]
            final_text = [f"{v:.3g}" if np.isfinite(v) else "-" for v in final]
            rows.append([regime, remedy, ended, f"{max(run['grad_norm']):.3g}",
                         *final_text[:2],
                         "-" if run["accuracy"] is None else f"{run['accuracy']:.1%}",
                         final_text[2], f"{run['first_over_last'][0]:.3g}", final_text[3]])
    return rows


REMEDIES_HEADERS = ["initial weights", "remedy", "ran", "max ‖∇ loss‖", "final ‖∇ loss‖",
                    "final loss", "test accuracy", "‖W‖ end / start", "hidden 1 / last at step 1",
                    "hidden 1 / last at the end"]
