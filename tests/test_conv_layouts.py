"""conv2d computes through two im2col layouts (NCHW rows, or batch-last for narrow outputs);
both must give the same output and gradients for every configuration."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.ops import conv as conv_ops
from tinygrad_nd.testing.strategies import conv2d_configs


def _conv_and_grads(c, x, w, g):
    tx, tw = (tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w))
    out = tg.conv2d(tx, tw, stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
                    groups=c["groups"])
    out.backward(g)
    return out.data, tx.grad.data, tw.grad.data


@given(config=conv2d_configs(), seed=st.integers(0, 2**16),
       batch=st.sampled_from([1, 2, 16, 19]))
def test_both_im2col_layouts_agree(config, seed, batch):
    rng = np.random.default_rng(seed)
    x_shape = (batch, *config["x_shape"][1:])
    x, w = rng.standard_normal(x_shape), rng.standard_normal(config["w_shape"])
    g = rng.standard_normal((batch, *config["out_shape"][1:]))
    results = []
    saved = conv_ops.BATCH_LAST_MAX_WIDTH
    try:
        for width in (0, 10**6):  # never / always batch-last
            conv_ops.BATCH_LAST_MAX_WIDTH = width
            results.append(_conv_and_grads(config, x, w, g))
    finally:
        conv_ops.BATCH_LAST_MAX_WIDTH = saved
    for nchw, batch_last in zip(*results):
        np.testing.assert_allclose(batch_last, nchw, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 2, 4, 4), (16, 4, 8, 8), (19, 2, 8, 8), (40, 1, 16, 16),
                                   (16, 3, 5, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_last_copy_is_a_transpose(shape, dtype):
    """Plain and blocked (images a multiple of 1 KiB apart) copies both transpose exactly."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    np.testing.assert_array_equal(conv_ops._batch_last(x), x.transpose(1, 2, 3, 0))
    strided = x[:, :, ::2]  # a non-contiguous input
    np.testing.assert_array_equal(conv_ops._batch_last(strided), strided.transpose(1, 2, 3, 0))


@pytest.mark.parametrize("shape, padding", [((3, 6, 6, 4), (1, 1)), ((2, 34, 34, 8), (1, 1)),
                                            ((3, 12, 10, 40), (0, 2))])
def test_batch_first_crops_and_transposes(shape, padding):
    """One copy for small channels, channel by channel for big ones: both exact."""
    xt = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    hw = (shape[1] - 2 * padding[0], shape[2] - 2 * padding[1])
    expected = xt[:, padding[0]:padding[0] + hw[0], padding[1]:padding[1] + hw[1]]
    result = conv_ops._batch_first(xt, padding, hw)
    assert result.flags.c_contiguous
    np.testing.assert_array_equal(result, expected.transpose(3, 0, 1, 2))
