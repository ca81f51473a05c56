"""Numpy work outside the graph that a training step must repeat, declared so that
`tinygrad_nd.jit` can record it and replay it.

Most of a training step is registered ops (recorded by the graph) and the optimizer (recorded
by the jit). Two things are neither: dropout draws a random mask, and batch normalisation
updates its running statistics in place. Each is one small function here, marked
`@side_effect`: called normally it just runs; while a jit records, the recorder runs it and
notes the call (function, arguments, result), so a replay calls the same function again with
the new step's arrays and draws, bit for bit what the eager step would have done.

Examples
--------
>>> import numpy as np
>>> mask = dropout_mask((2, 3), 0.5, np.dtype(np.float32), np.random.default_rng(0))
>>> sorted(set(mask.ravel().tolist()))
[0.0, 2.0]
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import factories
from .autograd import no_grad

F = TypeVar("F", bound=Callable[..., Any])
Recorder = Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]

# The recorder of the jit recording in this thread (None: nobody records, the usual case).
_recorder: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
    "tinygrad_nd_side_effect_recorder", default=None)


def side_effect(fn: F) -> F:
    """Mark `fn` as numpy work a recorded step must repeat; the undecorated function stays
    reachable as `fn.__wrapped__` (what a replay calls).

    Parameters
    ----------
    fn : callable
        A function whose effect (random draws, in-place updates of buffers) is not an op of
        the graph but must happen again on every replayed step.
    """

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        recorder = _recorder.get()
        if recorder is None:
            return fn(*args, **kwargs)
        return recorder(fn, args, kwargs)  # runs fn and notes the call

    return run  # type: ignore[return-value]


@side_effect
def dropout_mask(shape: tuple[int, ...], p: float, dtype: np.dtype,
                 generator: Any = None) -> np.ndarray:
    """Inverted dropout's multiplier: 0 with probability `p`, else 1/(1-p), drawn from
    `generator` (a `tinygrad_nd.Generator`, a numpy Generator, or None for the
    default one).

    Parameters
    ----------
    shape : tuple of int
        Shape of the mask (the input's).
    p : float
        Probability of dropping an element, in [0, 1).
    dtype : numpy dtype
        dtype of the mask (the input's).
    generator : Generator, numpy Generator or None
        Source of the random draws; None uses tinygrad_nd's default generator.
    """
    keep = factories.rng_of(generator).random(shape) >= p
    return (keep / (1.0 - p)).astype(dtype)


@side_effect
def update_running_stats(running_mean: Any, running_var: Any, mean: np.ndarray,
                         var: np.ndarray, momentum: float, count: int) -> None:
    """Batch norm's running averages: `running <- (1 - momentum) running + momentum batch`,
    with the unbiased variance (`count` values per channel; PyTorch's convention).

    Parameters
    ----------
    running_mean, running_var : Tensor
        The layer's running buffers, shape (C,), updated in place.
    mean, var : numpy.ndarray
        This batch's per-channel mean and biased variance (any shape with C elements).
    momentum : float
        Weight of the batch statistics in the update.
    count : int
        Values per channel in the batch (N, or N times the spatial size), for the unbiased
        variance var * count / (count - 1).
    """
    with no_grad():
        running_mean.mul_(1 - momentum).add_(mean.reshape(-1), alpha=momentum)
        unbiased = var.reshape(-1) * count / (count - 1)
        running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
