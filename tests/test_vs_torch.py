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


def _pad(x, pad_width, value, mode):
    """numpy-style widths and modes in PyTorch's F.pad (whose other modes want a batch dim)."""
    flat = [w for pair in reversed(pad_width) for w in pair]
    if mode == "constant":
        return F.pad(x, flat, value=value)
    torch_mode = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}[mode]
    return F.pad(x[None], flat, mode=torch_mode)[0]


# part "math" of issue #14: the math ops and activations (also used by the robustness tests)
MATH_TORCH = {
    **{name: getattr(torch, name) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
        "atanh", "log2", "log10", "log1p", "exp2", "expm1", "rsqrt", "square", "reciprocal",
        "erf", "floor", "ceil", "trunc", "sign", "frac", "atan2", "hypot", "fmod", "remainder",
        "lerp")},
    "round": lambda x, decimals: torch.round(x, decimals=decimals),
    # (PyTorch's clamp refuses to broadcast a 0-d x up to 1-d bounds, ours does, as
    # minimum/maximum: the adapter broadcasts first)
    "clamp": lambda x, lo, hi: torch.clamp(*torch.broadcast_tensors(x, lo, hi)),
    "hardtanh": lambda x, min_val, max_val: F.hardtanh(x, min_val, max_val),
    # (PyTorch's hardsigmoid backward uses a float32 1/6 even in float64: compare with the
    # same function composed from relu6, which has the same kinks)
    "hardsigmoid": lambda x: F.relu6(x + 3) / 6,
    "hardswish": F.hardswish, "silu": F.silu, "mish": F.mish,
    "softsign": F.softsign, "selu": F.selu, "logsigmoid": F.logsigmoid,
    "celu": lambda x, alpha: F.celu(x, alpha),
    "threshold": lambda x, threshold, value: F.threshold(x, threshold, value),
}

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
    "gelu": lambda x, approximate: F.gelu(x, approximate=approximate),
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
    "pad": lambda x, pad_width, value, mode: _pad(x, pad_width, value, mode),
    # p14-select: gather / scatter family
    "gather": lambda x, dim, index: torch.gather(x, dim, torch.as_tensor(index)),
    "scatter": lambda x, src, dim, index: torch.scatter(x, dim, torch.as_tensor(index),
                                                        src[tuple(slice(s) for s in index.shape)]),
    "scatter_reduce": lambda x, src, dim, index, reduce, include_self: torch.scatter_reduce(
        x, dim, torch.as_tensor(index), src[tuple(slice(s) for s in index.shape)], reduce,
        include_self=include_self),
    # part "math" of issue #14
    **MATH_TORCH,
}


# convolution and pooling, N-d (p14-conv): PyTorch's function of the input's spatial rank
def _ranked(name, x):
    return getattr(F, name.format(x.ndim - 2))


TORCH.update({
    "convolution": lambda x, w, **p: _ranked("conv{}d", x)(x, w, **p),
    "convolution_input_grad": lambda g, w, x_shape, **p: getattr(
        torch.nn.grad, f"conv{g.ndim - 2}d_input")(x_shape, w, g, **p),
    "convolution_weight_grad": lambda x, g, w_shape, **p: getattr(
        torch.nn.grad, f"conv{x.ndim - 2}d_weight")(x, w_shape, g, **p),
    "max_pool": lambda x, **p: _ranked("max_pool{}d", x)(x, **p),
    "avg_pool": lambda x, **p: _ranked("avg_pool{}d", x)(x, **p),
    "avg_pool_grad": lambda g, x_shape, **p: _adjoint(
        lambda x: _ranked("avg_pool{}d", x)(x, **p))(g, shape=x_shape),
})


# ---- p14-reduce: scans, reductions, linear algebra ----
TORCH.update({
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
})


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
