"""Recurrent nets on a memory task, and the gradient that reaches each of their states.

The pieces of `tinygrad-nd through-time` (`tinygrad_nd.experiments.through_time`): a
one-symbol copy task, a classifier around `nn.RNN` / `nn.LSTM` / `nn.GRU` whose gates
can start open, ‖∂L/∂h_t‖ read from the autograd, and a training loop that logs the norms of
the gradient and of every update (with optional clipping by norm).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd, nn
from ..factories import Generator, zeros
from ..tensor import Tensor
from .common import progress

KINDS = ("RNN", "LSTM", "GRU")


def copy_task(n: int, length: int, rng: np.random.Generator, noise: float = 0.0
              ) -> tuple[np.ndarray, np.ndarray]:
    """`n` sequences (length, n, 1) whose first input is a random bit +-1 and the rest zeros
    (plus N(0, noise^2) distractors); the targets are the bits as 0/1 floats, shape (n,).

    Parameters
    ----------
    n : int
        How many sequences (the batch).
    length : int
        Time steps per sequence, at least 1.
    rng : numpy.random.Generator
        Source of the bits and of the distractors.
    noise : float, default 0.0
        Standard deviation of the Gaussian distractors on steps 1..length-1 (0: zeros).

    Examples
    --------
    >>> x, y = copy_task(4, 5, np.random.default_rng(0))
    >>> x.shape, y.shape, bool(np.all(x[1:] == 0)), bool(np.all((x[0, :, 0] > 0) == (y == 1)))
    ((5, 4, 1), (4,), True, True)
    """
    if length < 1:
        raise ValueError(f"copy_task: length must be at least 1, got {length}")
    x = np.zeros((length, n, 1))
    if noise:
        x[1:] = rng.normal(0.0, noise, (length - 1, n, 1))
    bits = rng.choice([-1.0, 1.0], n)
    x[0, :, 0] = bits
    return x, (bits > 0).astype(np.float64)


class SequenceClassifier(nn.Module):
    """A one-layer `nn.RNN` (tanh), `nn.LSTM` or `nn.GRU` and a linear read-out of its
    last state (one logit), in float64 so gradients of 1e-40 stay measurable.

    `gate_bias` is added to the bias of the LSTM's forget gate (and subtracted from its input
    gate) or of the GRU's update gate z, so that at initialisation the gate keeps a fraction
    sigmoid(gate_bias) of the state per step (0: PyTorch's initialisation, f ~ z ~ 0.5).
    `radius` rescales the RNN's W_hh to that spectral radius (None: PyTorch's uniform
    initialisation, radius ~ 1/sqrt(3)).

    Parameters
    ----------
    kind : {"RNN", "LSTM", "GRU"}
        The recurrent layer.
    hidden : int, default 16
        Its hidden size.
    gate_bias : float, default 0.0
        Added to the forget (LSTM) or update (GRU) gate's input bias; ignored by the RNN.
    radius : float, optional
        The tanh RNN's initial spectral radius of W_hh; ignored by the LSTM and GRU.
    seed : int, default 0
        Seed of the recurrent layer's initial weights (the read-out uses seed + 10,000).

    Examples
    --------
    >>> net = SequenceClassifier("GRU", hidden=8, gate_bias=1.0, seed=0)
    >>> x, _ = copy_task(3, 5, np.random.default_rng(0))
    >>> net(Tensor(x)).shape
    (3,)
    """

    def __init__(self, kind: str, hidden: int = 16, gate_bias: float = 0.0,
                 radius: float | None = None, seed: int = 0) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"SequenceClassifier: kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        layer = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind]
        self.rnn = layer(1, hidden, generator=Generator(seed), dtype=np.float64)
        self.head = nn.Linear(hidden, 1, generator=Generator(seed + 10_000), dtype=np.float64)
        with autograd.no_grad():
            bias = self.rnn.bias_ih_l0.data.copy()
            if kind == "LSTM":  # gates (i, f, g, o): open f, close i, as the GRU's coupled z
                bias[hidden:2 * hidden] += gate_bias
                bias[:hidden] -= gate_bias
            elif kind == "GRU":  # gates (r, z, n): h' = (1 - z) n + z h
                bias[hidden:2 * hidden] += gate_bias
            self.rnn.bias_ih_l0.copy_(bias)
            if radius is not None and kind == "RNN":
                w = self.rnn.weight_hh_l0.data
                self.rnn.weight_hh_l0.copy_(w * (radius / spectral_radius(w)))

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out[-1])[:, 0]


def spectral_radius(matrix: np.ndarray) -> float:
    """The largest absolute eigenvalue.

    Parameters
    ----------
    matrix : ndarray, shape (n, n)
        A square matrix (a recurrent weight W_hh).
    """
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


def state_gradients(model: SequenceClassifier, x: np.ndarray, y: np.ndarray,
                    cell: bool = False) -> np.ndarray:
    """‖∂L/∂h_t‖ for t = 0 (the initial state) .. T, measured by the autograd. With
    `cell=True`, the LSTM's ‖∂L/∂c_t‖ for t = 0 .. T - 1 instead: the cell is where an LSTM
    keeps what it remembers (the c_T the layer returns is a copy that h_T does not read).

    The recurrent layer is stepped one input at a time through its public `hx` argument, so
    every state h_t (and c_t) is a graph node; `retain_grad` keeps its gradient. L is the
    mean binary cross-entropy of the batch; the norm is over the whole (batch, hidden)
    gradient.

    Parameters
    ----------
    model : SequenceClassifier
        The net, at its current weights (they are not changed; their `.grad` is).
    x : ndarray, shape (T, n, 1)
        Input sequences, time first (`copy_task`).
    y : ndarray, shape (n,)
        Their 0/1 targets.
    cell : bool, default False
        Measure the LSTM's cell states c_t instead of h_t (an LSTM only, else ValueError).

    Examples
    --------
    >>> x, y = copy_task(8, 20, np.random.default_rng(0))
    >>> g = state_gradients(SequenceClassifier("RNN", hidden=8), x, y)
    >>> g.shape, bool(g[0] < 1e-3 * g[-1])
    ((21,), True)
    """
    lstm = model.kind == "LSTM"
    if cell and not lstm:
        raise ValueError(f"state_gradients: cell=True needs an LSTM, got a {model.kind}")
    shape = (1, x.shape[1], model.rnn.hidden_size)
    h = zeros(*shape, dtype=np.float64, requires_grad=True)
    c = zeros(*shape, dtype=np.float64, requires_grad=True)
    state: Any = (h, c) if lstm else h
    states = [c if cell else h]
    for t in range(x.shape[0]):
        _, state = model.rnn(Tensor(x[t:t + 1], dtype=np.float64), state)
        h = state[0] if lstm else state
        if not cell or t + 1 < x.shape[0]:
            kept = state[1] if cell else h
            kept.retain_grad()
            states.append(kept)
    logits = model.head(h[0])[:, 0]
    nn.functional.binary_cross_entropy_with_logits(logits, Tensor(y)).backward()
    return np.array([np.linalg.norm(s.grad.data) for s in states])


def _parameter_vector(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def _gradient_norm(model: nn.Module) -> float:
    return float(np.sqrt(sum(float((p.grad.data ** 2).sum()) for p in model.parameters()
                             if p.grad is not None)))


def train(model: SequenceClassifier, length: int, steps: int, optimizer: Any,
          rng: np.random.Generator, batch: int = 32, noise: float = 0.0,
          clip: float | None = None, desc: str = "") -> dict[str, list[float]]:
    """Train on fresh copy-task batches; per step: loss, gradient norm (before clipping) and
    the norm of the parameter update ‖θ_(k+1) - θ_k‖. `clip` clips the gradient's norm
    (Pascanu et al. 2013: g <- clip * g / ‖g‖ when ‖g‖ > clip).

    Parameters
    ----------
    model : SequenceClassifier
        The net to train, in place.
    length : int
        Length of the training sequences.
    steps : int
        Optimiser steps, each on a fresh batch.
    optimizer : Optimizer
        Over `model.parameters()` (e.g. `optim.Adam`).
    rng : numpy.random.Generator
        Source of the batches.
    batch : int, default 32
        Sequences per batch.
    noise : float, default 0.0
        Distractor standard deviation of the copy task.
    clip : float, optional
        Clip the gradient's total norm to this (`nn.utils.clip_grad_norm_`); no clipping by
        default.
    desc : str, default ""
        The progress bar's label.

    Examples
    --------
    >>> from tinygrad_nd import optim
    >>> net = SequenceClassifier("RNN", hidden=4)
    >>> log = train(net, 5, 3, optim.SGD(net.parameters(), lr=0.1), np.random.default_rng(0),
    ...             clip=0.01)
    >>> len(log["loss"]), max(log["update_norm"]) <= 0.1 * 0.01 * (1 + 1e-6)
    (3, True)
    """
    log: dict[str, list[float]] = {"loss": [], "grad_norm": [], "update_norm": []}
    for _ in progress(range(steps), desc=desc, unit="step"):
        x, y = copy_task(batch, length, rng, noise)
        with np.errstate(all="ignore"):  # an exploding run may overflow: the log shows it
            logits = model(Tensor(x, dtype=np.float64))
            loss = nn.functional.binary_cross_entropy_with_logits(logits, Tensor(y))
            optimizer.zero_grad()
            loss.backward()
            log["grad_norm"].append(_gradient_norm(model))
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            before = _parameter_vector(model)
            optimizer.step()
            log["update_norm"].append(float(np.linalg.norm(_parameter_vector(model) - before)))
        log["loss"].append(float(loss.item()))
    return log


def accuracy(model: SequenceClassifier, length: int, rng: np.random.Generator, n: int = 1000,
             noise: float = 0.0) -> float:
    """Fraction of `n` fresh sequences whose bit the model outputs correctly.

    Parameters
    ----------
    model : SequenceClassifier
        The trained net.
    length : int
        Length of the test sequences.
    rng : numpy.random.Generator
        Source of the test sequences.
    n : int, default 1000
        How many sequences.
    noise : float, default 0.0
        Distractor standard deviation of the copy task.
    """
    x, y = copy_task(n, length, rng, noise)
    with autograd.no_grad():
        logits = model(Tensor(x, dtype=np.float64)).data
    return float(((logits > 0) == (y > 0)).mean())
