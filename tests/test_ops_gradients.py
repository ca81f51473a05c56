"""The registry is the test list: every registered op, forward and gradients, no edits needed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.registry import apply
from tinygrad_nd.testing import assert_grad_close, op_inputs

OP_NAMES = sorted(tg.OPS)


def _call(name, params):
    return lambda *xs: apply(name, *xs, **params)


@pytest.mark.parametrize("name", OP_NAMES)
@given(data=st.data())
def test_vjp_matches_central_differences(name, data):
    opdef = tg.OPS[name]
    case = data.draw(op_inputs(opdef), label="case")
    inputs = case.tensors(opdef)
    if not any(t.requires_grad for t in inputs):
        return
    assert_grad_close(_call(name, case.params), inputs, mode="central", seed=data.draw(
        st.integers(0, 2**16), label="upstream seed"))


@pytest.mark.parametrize("name", OP_NAMES)
@given(data=st.data())
def test_forward_matches_reference_and_keeps_dtype(name, data):
    opdef = tg.OPS[name]
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    case = data.draw(op_inputs(opdef, dtype=dtype), label="case")
    out = apply(name, *case.tensors(opdef, requires_grad=False), **case.params)
    if name != "cast":
        assert out.dtype == dtype, f"{name} changed {np.dtype(dtype)} into {out.dtype}"
    if opdef.reference is not None:
        expected = opdef.reference(*case.arrays, **case.params)
        np.testing.assert_allclose(out.data, expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-6 if dtype == np.float32 else 1e-12)


SMOOTH = [n for n in OP_NAMES if tg.OPS[n].smooth]


def _differentiable_call(name, data):
    """Draw inputs for op ``name`` and call it: (case, inputs, inputs needing grad, output);
    the output is None when no input needs a gradient."""
    opdef = tg.OPS[name]
    case = data.draw(op_inputs(opdef), label="case")
    inputs = case.tensors(opdef)
    live = [t for t in inputs if t.requires_grad]
    out = apply(name, *inputs, **case.params) if live else None
    return case, inputs, live, out


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data())
def test_grad_of_grad(name, data):
    """Backwards are recorded under create_graph=True, so they differentiate again."""
    case, inputs, live, out = _differentiable_call(name, data)
    if not live:
        return
    v = tg.Tensor(np.random.default_rng(1).standard_normal(out.shape), dtype=np.float64,
                  requires_grad=True)

    def first_derivatives(*args):
        xs = args[:len(inputs)]
        y = apply(name, *xs, **case.params)
        wrt = [x for x in xs if x.requires_grad]
        grads = tg.grad(y, wrt, args[-1], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else w * 0.0 for g, w in zip(grads, wrt))

    assert_grad_close(first_derivatives, [*inputs, v], mode="central", atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", OP_NAMES)
@given(data=st.data())
def test_first_order_backward_matches_recorded_backward(name, data):
    """An op's backward run on arrays (first-order passes; or its declared first-order
    ``backward_arrays``) and run on Tensors (recorded under create_graph=True) compute the
    same vector-Jacobian product."""
    _, _, live, out = _differentiable_call(name, data)
    if not live:
        return
    v = tg.Tensor(np.random.default_rng(2).standard_normal(out.shape), dtype=out.dtype)
    first = tg.grad(out, live, v, retain_graph=True, allow_unused=True)
    recorded = tg.grad(out, live, v, create_graph=True, allow_unused=True)
    for a, b in zip(first, recorded):
        assert (a is None) == (b is None)
        if a is not None:
            assert not a.requires_grad and a.dtype == b.dtype
            np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12)
