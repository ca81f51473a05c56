"""Helpers shared by the layer and loss parity tests: PyTorch modules and tensors moved into
tinygrad_nd, and a comparison of outputs and gradients under one random upstream gradient."""

import numpy as np

import tinygrad_nd as tg

TOL = dict(rtol=1e-5, atol=1e-9)  # float64 throughout: differences are rounding only


def state_of(torch_module):
    """A torch state_dict as numpy arrays (what ``load_state_dict`` accepts)."""
    return {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}


def leaf(array, requires_grad=True):
    return tg.Tensor(np.asarray(array), dtype=np.asarray(array).dtype,
                     requires_grad=requires_grad)


def flatten_outputs(out):
    """A module's result as a flat list (tuples of states flattened, None dropped)."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten_outputs(o)]
    return [out]


def weighted_sum(outputs, upstream, make):
    """sum(out * g) over every output, so every output's gradient is checked at once."""
    total = None
    for out, g in zip(outputs, upstream):
        term = (out * make(g)).sum()
        total = term if total is None else total + term
    return total


def assert_close(ours, theirs, **tol):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(ours.data if hasattr(ours, "data") else ours, theirs,
                               **(tol or TOL))
