"""PyTorch as an oracle: forward values and vector-Jacobian products of every registered op.

Skipped only when torch is absent (CI installs ``torch==2.13.0``, the CPU wheel).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.registry import apply
from tinygrad_nd.testing import op_inputs

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _dims(p, ndim):
    axis = p["axis"]
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _reduce(fn):
    return lambda x, **p: fn(x, dim=_dims(p, x.ndim), keepdim=p["keepdims"]) if x.ndim else x


def _flat_positions(shape, index):
    """Any numpy index (negative steps included) as positions into the flattened tensor."""
    return torch.as_tensor(np.arange(int(np.prod(shape))).reshape(shape)[index].copy())


def _adjoint(forward):
    """The adjoint of a linear torch function in its first argument, via torch autograd."""
    def apply_adjoint(g, *rest, shape):
        x = torch.zeros(shape, dtype=g.dtype, requires_grad=True)
        return torch.autograd.grad(forward(x, *rest), x, g, create_graph=True)[0]
    return apply_adjoint


def _conv_kwargs(p):
    return {k: p[k] for k in ("stride", "padding", "dilation", "groups")}


def _pool_kwargs(p):
    return {k: p[k] for k in ("kernel_size", "stride", "padding")}


# One adapter per registered op: same inputs and parameters, PyTorch's call.
TORCH = {
    "abs": torch.abs, "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "pow": torch.pow, "neg": torch.neg, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt,
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "maximum": torch.maximum, "minimum": torch.minimum, "where": torch.where,
    "matmul": torch.matmul,
    "sigmoid_backward": lambda g, s: torch.ops.aten.sigmoid_backward(g, s),
    "tanh_backward": lambda g, t: torch.ops.aten.tanh_backward(g, t),
    "linear": torch.nn.functional.linear,
    "cross_entropy": torch.nn.functional.cross_entropy,
    "binary_cross_entropy": lambda p, t: F.binary_cross_entropy(
        *torch.broadcast_tensors(p, t), reduction="none"),
    "binary_cross_entropy_with_logits": lambda x, t, pos_weight: (
        F.binary_cross_entropy_with_logits(
            *torch.broadcast_tensors(x, t), reduction="none",
            pos_weight=None if pos_weight is None else torch.tensor(pos_weight, dtype=x.dtype))),
    "gelu": lambda x: F.gelu(x, approximate="tanh"),
    "leaky_relu": lambda x, negative_slope: F.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha: F.elu(x, alpha),
    "softplus": lambda x, beta: F.softplus(x, beta),
    "clip": lambda x, min, max: torch.clamp(x, min, max),
    "cast": lambda x, dtype: x.to(getattr(torch, np.dtype(dtype).name)),
    "softmax": lambda x, axis: torch.softmax(x, dim=axis),
    "log_softmax": lambda x, axis: torch.log_softmax(x, dim=axis),
    "sum": _reduce(torch.sum), "mean": _reduce(torch.mean),
    "max": _reduce(torch.amax), "min": _reduce(torch.amin),
    "reshape": lambda x, shape: x.reshape(shape),
    "permute": lambda x, axes: x.permute(*axes) if axes else x,
    "expand": lambda x, shape: x.expand(shape),
    "getitem": lambda x, index: x.reshape(-1)[_flat_positions(x.shape, index)],
    "index_add": lambda g, index, shape: _adjoint(
        lambda x: x.reshape(-1)[_flat_positions(shape, index)])(g, shape=shape),
    "cat": lambda *xs, axis: torch.cat(xs, dim=axis),
    "pad": lambda x, pad_width, value: F.pad(
        x, [w for pair in reversed(pad_width) for w in pair], value=value),
    "conv2d": lambda x, w, **p: F.conv2d(x, w, **_conv_kwargs(p)),
    "conv2d_input_grad": lambda g, w, x_shape, **p: torch.nn.grad.conv2d_input(
        x_shape, w, g, **_conv_kwargs(p)),
    "conv2d_weight_grad": lambda x, g, w_shape, **p: torch.nn.grad.conv2d_weight(
        x, w_shape, g, **_conv_kwargs(p)),
    "max_pool2d": lambda x, **p: F.max_pool2d(x, **_pool_kwargs(p)),
    "avg_pool2d": lambda x, **p: F.avg_pool2d(x, **_pool_kwargs(p)),
    "avg_pool2d_grad": lambda g, x_shape, **p: _adjoint(
        lambda x: F.avg_pool2d(x, **_pool_kwargs(p)))(g, shape=x_shape),
    # ---- p14-reduce: scans, reductions, linear algebra ----
    "cumsum": lambda x, axis: torch.cumsum(x, dim=axis),
    "cumprod": lambda x, axis: torch.cumprod(x, dim=axis),
    "logcumsumexp": lambda x, axis: torch.logcumsumexp(x, dim=axis),
    "prod": lambda x, axis, keepdims: _prod_torch(x, _dims({"axis": axis}, x.ndim), keepdims),
    "logsumexp": _reduce(torch.logsumexp),
    "vector_norm": lambda x, axis, keepdims, ord: torch.linalg.vector_norm(
        x, ord=ord, dim=_dims({"axis": axis}, x.ndim) if x.ndim else None, keepdim=keepdims),
    "inv": torch.linalg.inv, "det": torch.linalg.det,
    # (the op's B is always (..., n, k); torch would read a B of A's batch shape as vectors)
    "solve": lambda a, b: torch.linalg.solve(a, b.reshape((1,) * (a.ndim - b.ndim) + b.shape)),
    "cholesky": torch.linalg.cholesky,
}


def _prod_torch(x, dims, keepdim):
    """torch.prod reduces one dim at a time."""
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdim)
    return x


def test_every_registered_op_has_a_torch_adapter():
    missing = sorted(set(tg.OPS) - set(TORCH))
    assert not missing, f"add PyTorch adapters to tests/test_vs_torch.py for: {missing}"


@pytest.mark.parametrize("name", sorted(TORCH))
@given(data=st.data())
def test_forward_and_vjp_match_torch(name, data):
    opdef = tg.OPS[name]
    case = data.draw(op_inputs(opdef), label="case")
    ours = case.tensors(opdef)
    theirs = [torch.tensor(a, requires_grad=t.requires_grad) for a, t in zip(case.arrays, ours)]
    out = apply(name, *ours, **case.params)
    expected = TORCH[name](*theirs, **case.params)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    live = [i for i, t in enumerate(ours) if t.requires_grad]
    if not live:
        return
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    got = tg.grad(out, [ours[i] for i in live], upstream, allow_unused=True)
    want = torch.autograd.grad(expected, [theirs[i] for i in live], torch.tensor(upstream),
                               allow_unused=True)
    for i, g, w in zip(live, got, want):
        w = np.zeros(ours[i].shape) if w is None else w.numpy()
        g = np.zeros(ours[i].shape) if g is None else g.data
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=f"{name} input {i}")
