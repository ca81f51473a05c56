"""The remedies compared by `tinygrad-nd remedies`, and the training run of one of them.

Every remedy trains the same deep net [784, 30 x 5, 10] (softmax cross-entropy) from the same
seeds and mini-batch order; only the part the remedy changes differs: the activation and
initialisation, a layer added to the net, the optimizer, a penalty or the gradient clipping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import data, nn, optim
from ..diagnostics import GradientMonitor
from ..factories import manual_seed
from .common import accuracy, build_net
from .pretraining import pretrain_autoencoders, pretrain_rbms

SGD_GRID = (0.03, 0.1, 0.3, 1.0)
MOMENTUM_GRID = (0.01, 0.03, 0.1)
ADAM_GRID = (1e-3, 3e-3, 1e-2)


@dataclass(frozen=True)
class Remedy:
    """One row of the comparison: how the net is built and trained, and why it should help.

    Attributes
    ----------
    name : str
        The row's label in the report.
    why : str
        One line on why it should help.
    net : dict
        Keyword arguments of `common.build_net` (`activation`, `init`, `batchnorm`,
        `residual`, `dropout`); sigmoid with N(0, 1/n_in) weights by default.
    optimizer : {"sgd", "nesterov", "adam"}, default "sgd"
        SGD, SGD with Nesterov momentum 0.9, or Adam; each has its learning-rate grid.
    clip : {"norm", "value"}, optional
        Clip the gradient's joint norm or every element (thresholds from `clip_thresholds`).
    penalty : {"l1", "l2"}, optional
        A weight penalty (strengths in `TrainSettings`).
    pretrain : {"autoencoder", "rbm"}, optional
        Greedy layer-wise pre-training of the hidden layers before training.
    """

    name: str
    why: str
    net: dict[str, Any] = field(default_factory=lambda: dict(activation="sigmoid",
                                                             init="nielsen"))
    optimizer: str = "sgd"        # "sgd", "nesterov" (momentum 0.9) or "adam"
    clip: str | None = None       # "norm" or "value"
    penalty: str | None = None    # "l1" or "l2" on the weights
    pretrain: str | None = None   # "autoencoder" or "rbm"

    @property
    def lr_grid(self) -> tuple[float, ...]:
        """The learning rates tried for this remedy."""
        return {"sgd": SGD_GRID, "nesterov": MOMENTUM_GRID, "adam": ADAM_GRID}[self.optimizer]


def _sigmoid(**extra: Any) -> dict[str, Any]:
    return dict(activation="sigmoid", init="nielsen", **extra)


REMEDIES: tuple[Remedy, ...] = (
    Remedy("sigmoid (baseline)", "Nielsen's net: sigma' <= 1/4 at every layer"),
    Remedy("tanh + Xavier", "slope 1 at 0 and weights that keep the variance",
           dict(activation="tanh", init="xavier_normal")),
    Remedy("ReLU + He", "slope 1 on active units; He's weights make up for the inactive half",
           dict(activation="relu", init="kaiming_normal")),
    Remedy("LeakyReLU + He", "as ReLU, with slope 0.01 instead of 0 on negative inputs",
           dict(activation="leaky_relu", init="kaiming_normal")),
    Remedy("ELU + He", "as ReLU, with a smooth exponential branch for negative inputs",
           dict(activation="elu", init="kaiming_normal")),
    Remedy("sigmoid + BatchNorm", "the backward through the normalisation divides by the "
           "batch std (see the BatchNorm section)", _sigmoid(batchnorm=True)),
    Remedy("sigmoid + residual", "an identity path: a block passes g + J g back, never only J g",
           _sigmoid(residual=True)),
    Remedy("sigmoid + clip norm", "caps the joint gradient norm (against exploding)", clip="norm"),
    Remedy("sigmoid + clip value", "caps every gradient element (against exploding)",
           clip="value"),
    Remedy("sigmoid + L2", "weight decay keeps the weights, hence |w sigma'|, small "
           "(against exploding)", penalty="l2"),
    Remedy("sigmoid + L1", "an |w| penalty drives weights to 0 (against exploding)",
           penalty="l1"),
    Remedy("sigmoid + Nesterov momentum", "Sutskever et al. 2013: velocity accumulates "
           "small, consistent gradients", optimizer="nesterov"),
    Remedy("sigmoid + Adam", "divides each coordinate by its running RMS", optimizer="adam"),
    Remedy("sigmoid + dropout", "a regulariser; does nothing for the backward factors",
           _sigmoid(dropout=0.2)),
    Remedy("sigmoid + AE pre-training", "greedy stacked autoencoders give the early layers "
           "features before fine-tuning (Bengio et al. 2007)", pretrain="autoencoder"),
    Remedy("sigmoid + RBM pre-training", "a stack of RBMs trained by contrastive divergence "
           "(CD-1) gives the early layers features (Hinton et al. 2006)", pretrain="rbm"),
)


@dataclass
class TrainSettings:
    """What every remedy shares: the net, the budget and the strengths of the remedies that
    have one (clip thresholds are measured instead, see `clip_thresholds`).

    Attributes
    ----------
    hidden : int, default 5
        Hidden layers of the net [784, width x hidden, 10].
    width : int, default 30
        Neurons per hidden layer.
    epochs : int, default 2
        Training epochs of each run.
    batch_size : int, default 10
        Mini-batch size (also of the pre-training).
    l1 : float, default 1e-4
        Strength of the L1 remedy's penalty `l1 * sum |w|` on the weight matrices.
    l2 : float, default 1e-3
        The L2 remedy's weight decay (on the weights, not the biases).
    pretrain_epochs : int, default 2
        Epochs of each layer's autoencoder pre-training.
    pretrain_lr : float, default 0.03
        Adam's learning rate in that pre-training.
    rbm_epochs : int, default 4
        Epochs of each layer's RBM pre-training.
    rbm_lr : float, default 0.1
        Learning rate of its CD-1 updates.
    """

    hidden: int = 5
    width: int = 30
    epochs: int = 2
    batch_size: int = 10
    l1: float = 1e-4
    l2: float = 1e-3
    pretrain_epochs: int = 2
    pretrain_lr: float = 0.03
    rbm_epochs: int = 4
    rbm_lr: float = 0.1

    @property
    def sizes(self) -> list[int]:
        return [784] + [self.width] * self.hidden + [10]


def build_remedy_net(remedy: Remedy, settings: TrainSettings, seed: int,
                     pretrained: dict[Any, Any] | None = None,
                     x_unlabelled: np.ndarray | None = None) -> nn.Sequential:
    """The remedy's net for `seed`; pre-trained (once per seed and kind, cached in
    `pretrained` with the per-layer reconstruction losses) when the remedy asks for it.

    Parameters
    ----------
    remedy : Remedy
        What to build.
    settings : TrainSettings
        The net's sizes and the pre-training budget.
    seed : int
        Seed of the initial weights (and of the pre-training).
    pretrained : dict, optional
        A cache shared between calls: (kind, seed) -> (state dict, per-layer losses).
    x_unlabelled : ndarray, shape (n, 784), optional
        The pre-training images; needed when the remedy pre-trains.
    """
    manual_seed(seed)
    model = build_net(settings.sizes, output=None, seed=seed, **remedy.net)
    if remedy.pretrain:
        cache = pretrained if pretrained is not None else {}
        key = (remedy.pretrain, seed)
        if key not in cache:
            if x_unlabelled is None:
                raise ValueError(f"build_remedy_net: {remedy.name!r} needs x_unlabelled")
            if remedy.pretrain == "rbm":
                losses = pretrain_rbms(model, x_unlabelled, settings.rbm_epochs,
                                       settings.batch_size, settings.rbm_lr, seed)
            else:
                losses = pretrain_autoencoders(model, x_unlabelled, settings.pretrain_epochs,
                                               settings.batch_size, settings.pretrain_lr, seed)
            cache[key] = ({k: v.data.copy() for k, v in model.state_dict().items()}, losses)
        model.load_state_dict(cache[key][0])
    return model


def make_optimizer(remedy: Remedy, model: nn.Module, lr: float,
                   settings: TrainSettings) -> optim.Optimizer:
    """SGD (weight decay on the weights only for L2, as network2), Nesterov or Adam.

    Parameters
    ----------
    remedy : Remedy
        Its `optimizer` and `penalty` choose the optimiser and the weight decay.
    model : nn.Module
        The net whose parameters are optimised (weight decay on names ending in "weight").
    lr : float
        The learning rate.
    settings : TrainSettings
        For the L2 strength.
    """
    if remedy.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=lr)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    others = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    decay = settings.l2 if remedy.penalty == "l2" else 0.0
    momentum = dict(momentum=0.9, nesterov=True) if remedy.optimizer == "nesterov" else {}
    return optim.SGD([{"params": weights, "weight_decay": decay},
                      {"params": others, "weight_decay": 0.0}], lr=lr, **momentum)


def clip_thresholds(settings: TrainSettings, xs: np.ndarray, ys: np.ndarray, seed: int = 0,
                    batches: int = 20, fraction: float = 0.5) -> tuple[float, float]:
    """Clip thresholds that bind: `fraction` of the median joint gradient norm and of the
    median largest gradient element of the baseline net at initialisation, over `batches`
    mini-batches. Returns (norm threshold, value threshold).

    Parameters
    ----------
    settings : TrainSettings
        The net's sizes and the batch size.
    xs, ys : ndarray
        Training images (n, 784) and integer labels.
    seed : int, default 0
        Seed of the baseline's initial weights and of the batch order.
    batches : int, default 20
        Mini-batches measured.
    fraction : float, default 0.5
        The thresholds as this fraction of the medians (below 1, so clipping binds).
    """
    model = build_net(settings.sizes, output=None, seed=seed)
    loader = data.DataLoader(data.TensorDataset(xs, ys), settings.batch_size, shuffle=True,
                             seed=seed)
    norms, largest = [], []
    for i, (xb, yb) in enumerate(loader):
        if i == batches:
            break
        model.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        grads = [p.grad.data for p in model.parameters()]
        norms.append(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads))))
        largest.append(float(max(np.abs(g).max() for g in grads)))
    return fraction * float(np.median(norms)), fraction * float(np.median(largest))


def hidden_speed_columns(monitor: GradientMonitor) -> list[int]:
    """Monitor columns that measure each hidden layer's speed ||dC/db||: the Linear's bias,
    or, when a BatchNorm follows it, BatchNorm's beta (the Linear's bias then gets no
    gradient, since the normalisation subtracts the batch mean).

    Parameters
    ----------
    monitor : GradientMonitor
        A monitor attached to a `build_net` net (its layers named "hidden 1", ..., "output").
    """
    columns = {}
    for i, name in enumerate(monitor.layers):
        if name.startswith("hidden "):
            columns[name.split()[1]] = i  # a later BatchNorm of the same layer replaces it
    return list(columns.values())


def geometric_mean(values: Any) -> float:
    """Geometric mean of the finite, positive entries (NaN when there are none).

    Parameters
    ----------
    values : array-like
        Numbers of any shape; zeros, negatives, NaN and infinities are left out.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    return float(np.exp(np.mean(np.log(values)))) if values.size else float("nan")


def train_remedy(remedy: Remedy, lr: float, seed: int, settings: TrainSettings, xs: np.ndarray,
                 ys: np.ndarray, x_eval: np.ndarray, y_eval: np.ndarray,
                 pretrained: dict[Any, Any] | None = None,
                 thresholds: tuple[float, float] | None = None) -> dict[str, Any]:
    """Train one remedy with learning rate `lr` for `settings.epochs` epochs; a clipping
    remedy needs `thresholds` = (max joint norm, max element), see `clip_thresholds`.

    Returns `curve` (accuracy on `x_eval` after each epoch; NaN for the epochs after a
    divergence), `diverged` (the loss became non-finite; training stopped there),
    `clipped` (fraction of steps in which clipping changed the gradient), the first/last
    hidden-layer ratio of `||dC/db||` at the first step (`ratio_init`) and its geometric
    mean over all steps (`ratio_train`), the same for the relative updates
    `||dW||/||W||` (`update_ratio`), and `weight_norm`, the mean spectral norm of the
    hidden and output weight matrices at the end.

    Parameters
    ----------
    remedy : Remedy
        What to train.
    lr : float
        The learning rate.
    seed : int
        Seed of the initial weights and of the batch order.
    settings : TrainSettings
        The net, the budget and the penalty strengths.
    xs, ys : ndarray
        Training images (n, 784) and integer labels.
    x_eval, y_eval : ndarray
        Images and labels the accuracy is measured on after each epoch.
    pretrained : dict, optional
        The pre-training cache of `build_remedy_net`.
    thresholds : (float, float), optional
        (joint norm, element) clip thresholds; required by a clipping remedy.
    """
    if remedy.clip and thresholds is None:
        raise ValueError(f"train_remedy: {remedy.name!r} clips gradients and needs "
                         "thresholds=(norm, value), e.g. from clip_thresholds()")
    model = build_remedy_net(remedy, settings, seed, pretrained, xs)
    opt = make_optimizer(remedy, model, lr, settings)
    loader = data.DataLoader(data.TensorDataset(xs, ys), settings.batch_size, shuffle=True,
                             seed=seed)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight") and p.ndim == 2]
    curve, clipped, steps, diverged = [], 0, 0, False
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        columns = hidden_speed_columns(monitor)
        for _ in range(settings.epochs):
            for xb, yb in loader:
                loss = nn.functional.cross_entropy(model(xb), yb)
                if remedy.penalty == "l1":
                    loss = loss + settings.l1 * sum(w.abs().sum() for w in weights)
                opt.zero_grad()
                loss.backward()
                if not np.isfinite(loss.item()):
                    diverged = True
                    break
                clipped += _clip(remedy, model, thresholds)
                steps += 1
                opt.step()
            if diverged:
                break
            curve.append(accuracy(model, x_eval, y_eval))
    curve += [float("nan")] * (settings.epochs - len(curve))  # epochs never trained
    speed = monitor.history["bias_grad"][:, columns]
    update = monitor.history["update_ratio"][1:, columns]
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 after a divergence: dropped
        return {"curve": curve, "diverged": diverged, "clipped": clipped / max(steps, 1),
                "ratio_init": float(speed[0, 0] / speed[0, -1]),
                "ratio_train": geometric_mean(speed[:, 0] / speed[:, -1]),
                "update_ratio": geometric_mean(update[:, 0] / update[:, -1]),
                "weight_norm": float("nan") if diverged else  # (no SVD of NaN weights)
                float(np.mean([np.linalg.norm(w.data, 2) for w in weights]))}


def _clip(remedy: Remedy, model: nn.Module, thresholds: tuple[float, float] | None) -> bool:
    """Clip as the remedy says; whether the clipping changed the gradient."""
    if remedy.clip == "norm":
        return nn.utils.clip_grad_norm_(model.parameters(), thresholds[0]) > thresholds[0]
    if remedy.clip == "value":
        return nn.utils.clip_grad_value_(model.parameters(), thresholds[1]) > thresholds[1]
    return False
