"""Convolutions compute through two im2col layouts (per image, or batch-last for narrow
outputs); both must give the same output and gradients for every configuration and rank."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.ops import conv as conv_ops
from tinygrad_nd.registry import apply
from tinygrad_nd.testing.strategies import conv_configs

NEVER, ALWAYS = 0, 10**6  # batch_last_max_width: never / always batch-last


def _conv_and_grads(c, x, w, g, width):
    tx, tw = (tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w))
    out = apply("convolution", tx, tw, stride=c["stride"], padding=c["padding"],
                dilation=c["dilation"], groups=c["groups"], batch_last_max_width=width)
    out.backward(g)
    return out.data, tx.grad.data, tw.grad.data


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data(), seed=st.integers(0, 2**16), batch=st.sampled_from([1, 2, 16, 19]))
def test_both_im2col_layouts_agree(dims, data, seed, batch):
    config = data.draw(conv_configs(dims), label="config")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *config["x_shape"][1:]))
    w = rng.standard_normal(config["w_shape"])
    g = rng.standard_normal((batch, *config["out_shape"][1:]))
    nchw, batch_last = (_conv_and_grads(config, x, w, g, width) for width in (NEVER, ALWAYS))
    for a, b in zip(batch_last, nchw):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("width, layout", [(NEVER, conv_ops.PER_IMAGE),
                                           (ALWAYS, conv_ops.BATCH_LAST),
                                           (conv_ops.BATCH_LAST_MAX_WIDTH, conv_ops.BATCH_LAST)])
def test_conv_forward_names_the_layout_it_chose(width, layout):
    """The layout is returned, not inferred from the columns' rank; the default threshold
    takes batch-last for an 8-wide output."""
    x, w = np.ones((2, 3, 10, 10)), np.ones((4, 3, 3, 3))
    out, cols, chosen = conv_ops.conv_forward(x, w, (1, 1), (0, 0), (1, 1), 1, width)
    assert chosen == layout
    g = np.ones(out.shape)
    np.testing.assert_allclose(conv_ops.weight_grad(g, cols, chosen, w.shape, 1),
                               np.full(w.shape, 2 * 64.0))


@pytest.mark.parametrize("shape", [(3, 2, 4, 4), (16, 4, 8, 8), (19, 2, 8, 8), (40, 1, 16, 16),
                                   (16, 3, 5, 7), (16, 4, 16), (16, 2, 4, 4, 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_last_copy_is_a_transpose(shape, dtype):
    """Plain and blocked (images a multiple of 1 KiB apart) copies both transpose exactly."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    last = tuple(range(1, len(shape))) + (0,)
    np.testing.assert_array_equal(conv_ops._batch_last(x), x.transpose(last))
    strided = x[:, :, ::2]  # a non-contiguous input
    np.testing.assert_array_equal(conv_ops._batch_last(strided), strided.transpose(last))


@pytest.mark.parametrize("shape, padding", [((3, 6, 6, 4), (1, 1)), ((2, 34, 34, 8), (1, 1)),
                                            ((3, 12, 10, 40), (0, 2)), ((3, 70, 40), (2,)),
                                            ((2, 6, 6, 6, 30), (1, 0, 2))])
def test_batch_first_crops_and_transposes(shape, padding):
    """One copy for small channels, channel by channel for big ones: both exact."""
    xt = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    size = tuple(n - 2 * p for n, p in zip(shape[1:-1], padding))
    expected = xt[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(padding, size))]
    result = conv_ops._batch_first(xt, padding, size)
    assert result.flags.c_contiguous
    np.testing.assert_array_equal(result, expected.transpose((len(shape) - 1,)
                                                             + tuple(range(len(shape) - 1))))


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data(), seed=st.integers(0, 2**16), batch=st.sampled_from([1, 3]))
def test_both_input_gradient_algorithms_agree(dims, data, seed, batch):
    """Per kernel offset (small buffers) and through all the columns (col2im)."""
    c = data.draw(conv_configs(dims), label="config")
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((batch, *c["out_shape"][1:]))
    w = rng.standard_normal(c["w_shape"])
    x_shape = (batch, *c["x_shape"][1:])
    settings = {k: c[k] for k in ("stride", "padding", "dilation", "groups")}
    by_offset, by_columns = (conv_ops.input_grad(conv_ops._batch_last(g), w, x_shape,
                                                 **settings, per_offset_max_bytes=limit)
                             for limit in (10**12, 0))
    np.testing.assert_allclose(by_offset, by_columns, rtol=1e-10, atol=1e-10)
