"""A thin training loop: `fit` runs epochs of the explicit loop and returns a history.

The explicit loop (`zero_grad`, `backward`, `step`) stays first-class; `fit` only saves
typing and adds per-epoch metrics and a progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import autograd
from .data.dataset import DataLoader, Dataset
from .nn.module import Module
from .optim.optimizer import Optimizer
from .tensor import Tensor


@dataclass
class History:
    """Per-epoch metrics of a `fit` run, one list entry per epoch.

    Parameters
    ----------
    loss, accuracy : list of float
        Mean training loss and accuracy of each epoch (accuracy 0 for non-classifiers).
    val_loss, val_accuracy : list of float
        The same on the validation data, when `fit` was given some.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float]]:
        """The metrics as plain lists (JSON-friendly)."""
        return {k: list(v) for k, v in self.__dict__.items()}


def _correct(output: Tensor, target: Tensor) -> int:
    if output.ndim != 2 or target.dtype.kind not in "iu":
        return 0
    return int((output.data.argmax(axis=1) == target.data).sum())


@autograd.no_grad()
def evaluate(model: Module, loss_fn: Callable[[Tensor, Tensor], Tensor], data: Dataset | DataLoader,
             batch_size: int = 1000) -> tuple[float, float]:
    """Mean loss and accuracy of `model` on `data` (in eval mode, restored afterwards).

    Parameters
    ----------
    model : Module
        The model.
    loss_fn : callable
        `loss_fn(output, target)` returns the batch's mean loss.
    data : Dataset or DataLoader
        The examples; a dataset is read in batches of `batch_size`.
    batch_size : int
        Batch size when `data` is a dataset.
    """
    loader = data if isinstance(data, DataLoader) else DataLoader(data, batch_size=batch_size)
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for xb, yb in loader:
        out = model(xb)
        total_loss += float(loss_fn(out, yb).item()) * len(xb)
        correct += _correct(out, yb)
        count += len(xb)
    model.train(was_training)
    return total_loss / max(count, 1), correct / max(count, 1)


def fit(model: Module, loss_fn: Callable[[Tensor, Tensor], Tensor], optimizer: Optimizer,
        loader: DataLoader, epochs: int = 1, val: Dataset | DataLoader | None = None,
        progress: bool = True, scheduler: Any = None) -> History:
    """Train for `epochs` and return a `History` (loss/accuracy per epoch).

    Parameters
    ----------
    model : Module
        The model to train (in train mode; `val` is evaluated in eval mode).
    loss_fn : callable
        `loss_fn(output, target)` returns the batch's mean loss.
    optimizer : Optimizer
        Steps once per batch.
    loader : DataLoader
        The training batches.
    epochs : int
        Passes over `loader`.
    val : Dataset or DataLoader, optional
        Validation data, evaluated after each epoch.
    progress : bool
        Show a progress bar per epoch.
    scheduler : LRScheduler, optional
        Stepped once per epoch.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn, optim, data
    >>> train, test = data.mnist_5k(split=(500, 100))
    >>> model = nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10))
    >>> h = tg.fit(model, nn.functional.cross_entropy, optim.SGD(model.parameters(), lr=0.5),
    ...            data.DataLoader(train, batch_size=10, shuffle=True, seed=0), epochs=2,
    ...            val=test, progress=False)
    >>> len(h.loss), 0.0 <= h.val_accuracy[-1] <= 1.0
    (2, True)
    """
    from tqdm.auto import tqdm

    history = History()
    for epoch in range(epochs):
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for xb, yb in bar:
            out = model(xb)
            loss = loss_fn(out, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = float(loss.item())
            if not np.isfinite(value):
                raise FloatingPointError(f"fit: the loss became {value} in epoch {epoch + 1}; "
                                         "lower the learning rate or clip gradients")
            total_loss += value * len(xb)
            correct += _correct(out, yb)
            count += len(xb)
            bar.set_postfix(loss=f"{value:.4f}")
        history.loss.append(total_loss / max(count, 1))
        history.accuracy.append(correct / max(count, 1))
        if val is not None:
            val_loss, val_acc = evaluate(model, loss_fn, val)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_acc)
        if scheduler is not None:
            scheduler.step()
    return history
