"""Remedies for vanishing gradients, measured on the same deep net: activations, initialisation,
BatchNorm, residual connections, gradient clipping and Adam."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, nn, optim
from ..diagnostics import GradientMonitor
from ..factories import manual_seed
from .common import (
    Report,
    accuracy,
    build_net,
    finish,
    load_images,
    progress,
    pyplot,
    train_step,
)

# name -> (build_net options, optimizer, clip)
VARIANTS: dict[str, tuple[dict[str, Any], str, float | None]] = {
    "sigmoid (baseline)": (dict(activation="sigmoid", init="nielsen"), "sgd", None),
    "tanh + Xavier": (dict(activation="tanh", init="xavier_normal"), "sgd", None),
    "ReLU + He": (dict(activation="relu", init="kaiming_normal"), "sgd", None),
    "sigmoid + BatchNorm": (dict(activation="sigmoid", init="nielsen", batchnorm=True), "sgd",
                            None),
    "sigmoid + residual": (dict(activation="sigmoid", init="nielsen", residual=True), "sgd",
                           None),
    "sigmoid + clipping": (dict(activation="sigmoid", init="nielsen"), "sgd", 1.0),
    "sigmoid + Adam": (dict(activation="sigmoid", init="nielsen"), "adam", None),
}


@dataclass
class RemediesConfig:
    """Settings of `run_remedies`."""

    hidden: int = 5
    width: int = 30
    epochs: int = 2
    batch_size: int = 10
    lr: float = 0.1
    adam_lr: float = 1e-3
    images: int = 4000
    dataset: str = "digits"
    seed: int = 0


def run_variant(options: dict[str, Any], opt_name: str, clip: float | None,
                cfg: RemediesConfig, xs: np.ndarray, ys: np.ndarray) -> tuple[dict[str, Any],
                                                                             Any]:
    """Train one variant; return first/last-hidden-layer gradient ratios and the model."""
    manual_seed(cfg.seed)
    sizes = [784] + [cfg.width] * cfg.hidden + [10]
    model = build_net(sizes, output=None, seed=cfg.seed, **options)
    opt = (optim.Adam(model.parameters(), lr=cfg.adam_lr) if opt_name == "adam"
           else optim.SGD(model.parameters(), lr=cfg.lr))
    loader = data.DataLoader(data.TensorDataset(xs, ys), cfg.batch_size, shuffle=True,
                             seed=cfg.seed)
    with GradientMonitor(model) as monitor:
        # BatchNorm layers have weights too: compare the hidden Linear layers only.
        hidden = [i for i, m in enumerate(monitor.modules) if isinstance(m, nn.Linear)][:-1]
        for _ in progress(range(cfg.epochs), desc="training", unit="epoch"):
            for xb, yb in loader:
                train_step(model, nn.functional.cross_entropy, opt, xb, yb, clip)
    grad = monitor.history["bias_grad"][:, hidden]
    update = monitor.history["update_ratio"][1:, hidden]
    return {"grad_ratio_init": float(grad[0, 0] / grad[0, -1]),
            "grad_ratio_mean": float(np.exp(np.mean(np.log(grad[:, 0] / grad[:, -1])))),
            "update_ratio_mean": float(np.exp(np.nanmean(np.log(update[:, 0] / update[:, -1])))),
            "layers": [monitor.layers[i] for i in hidden]}, model


def run_remedies(out: str | Path = "reports/remedies", cfg: RemediesConfig | None = None,
                 verbose: bool = True) -> dict[str, Any]:
    """Train every variant, write `report.md` with a table and a figure; return the numbers."""
    cfg = cfg or RemediesConfig()
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, seed=cfg.seed)
    report = Report(Path(out), "Remedies for vanishing gradients")
    report.text(f"""
Net: [784, {cfg.width} x {cfg.hidden}, 10] with softmax cross-entropy, trained for {cfg.epochs}
epoch(s) with mini-batches of {cfg.batch_size} on {len(xs)} images of {label} (SGD lr={cfg.lr};
Adam lr={cfg.adam_lr}); accuracy on {len(xt)} held-out images. "first/last" is ||dC/db|| of the
first hidden layer over that of the last hidden layer (1 = both learn equally fast): at
initialisation, and the geometric mean over all training steps. For Adam, the ratio of the
relative weight updates ||dW||/||W|| matters more, since Adam rescales every coordinate.
""")
    results: dict[str, Any] = {"config": asdict(cfg), "variants": {}}
    rows = []
    for name, (options, opt_name, clip) in VARIANTS.items():
        stats, model = run_variant(options, opt_name, clip, cfg, xs, ys)
        stats["accuracy"] = accuracy(model, xt, yt)
        results["variants"][name] = stats
        rows.append([name, f"{stats['grad_ratio_init']:.3g}", f"{stats['grad_ratio_mean']:.3g}",
                     f"{stats['update_ratio_mean']:.3g}", f"{stats['accuracy']:.1%}"])
    text = report.table(["variant", "first/last at init", "first/last in training",
                         "update first/last", "accuracy"], rows)
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    names = list(results["variants"])
    ys_pos = np.arange(len(names))
    ax1.barh(ys_pos, [results["variants"][n]["grad_ratio_mean"] for n in names])
    ax1.axvline(1.0, color="gray", linestyle=":")
    ax1.set_xscale("log")
    ax1.set_yticks(ys_pos, names)
    ax1.invert_yaxis()
    ax1.set_xlabel("first / last hidden layer ||dC/db|| (training mean, log)")
    ax1.set_title("How evenly the layers learn")
    ax2.barh(ys_pos, [100 * results["variants"][n]["accuracy"] for n in names], color="C2")
    ax2.set_yticks(ys_pos, [""] * len(names))
    ax2.invert_yaxis()
    ax2.set_xlabel("held-out accuracy (%)")
    ax2.set_title(f"After {cfg.epochs} epoch(s)")
    report.figure(fig, "remedies", "Gradient ratio and accuracy per remedy")
    report.text("Clipping caps large gradients; it cannot make small ones bigger, so it leaves "
                "the vanishing ratio of the sigmoid net unchanged. Adam rescales each "
                "coordinate, so early layers get sizeable *updates* although their gradients "
                "stay small.")
    return finish(report, results, text, verbose)
