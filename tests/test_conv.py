"""Convolutions of every rank against PyTorch at realistic sizes, every hyper-parameter
exercised, in both im2col layouts; transposed convolutions; layers loading PyTorch weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.nn import conv_functional
from tinygrad_nd.nn import functional as NF
from tinygrad_nd.ops import conv as conv_ops
from tinygrad_nd.registry import apply

torch = pytest.importorskip("torch")
F = torch.nn.functional

CONV_CASES = [  # x shape, w shape, stride, padding, dilation, groups
    ((2, 3, 9, 9), (4, 3, 3, 3), 1, 0, 1, 1),
    ((2, 3, 9, 8), (4, 3, 3, 2), 2, 1, 1, 1),
    ((1, 4, 10, 10), (6, 2, 3, 3), (1, 2), (2, 1), 2, 2),
    ((3, 4, 7, 7), (4, 1, 5, 5), 1, 2, 1, 4),  # depthwise
    ((2, 1, 28, 28), (8, 1, 5, 5), 1, 0, 1, 1),  # the benchmark CNN's first layer
    ((17, 4, 8, 8), (6, 2, 3, 3), 1, 1, 1, 2),  # images 2 KiB apart: blocked batch-last copies
    ((4, 2, 24, 24), (3, 2, 3, 3), 1, 1, 1, 1),  # channels big enough for per-channel copies
    ((2, 3, 40), (4, 3, 5), 2, 2, 1, 1),  # 1-D
    ((3, 4, 30), (4, 2, 3), 1, 3, 3, 2),
    ((2, 2, 6, 7, 8), (4, 2, 3, 2, 3), (1, 2, 1), (1, 0, 1), 1, 1),  # 3-D
    ((2, 4, 5, 5, 18), (4, 2, 2, 3, 3), 1, (0, 1, 1), (2, 1, 1), 2),
]


def _tensors(*arrays):
    ours = [tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _check_forward_and_backward(ours, theirs, ours_in, theirs_in, rtol=1e-10):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=1e-10)
    g = np.random.default_rng(9).standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    for a, t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("width", [0, conv_ops.BATCH_LAST_MAX_WIDTH, 10**6],
                         ids=["per_image", "default", "batch_last"])
@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CONV_CASES)
def test_convolution_matches_torch_forward_and_backward(xs, ws, stride, padding, dilation, groups,
                                                        width):
    rng = np.random.default_rng(0)
    (tx, tw, tb), (px, pw, pb) = _tensors(rng.standard_normal(xs), rng.standard_normal(ws),
                                          rng.standard_normal(ws[0]))
    dims = len(xs) - 2
    conf = conv_functional._conv_config(xs, ws, stride, padding, dilation, groups, dims, "test")
    ours = apply("convolution", tx, tw, **conf, batch_last_max_width=width)
    ours = ours + tb.reshape((1, -1) + (1,) * dims)
    theirs = getattr(F, f"conv{dims}d")(px, pw, pb, stride=stride, padding=padding,
                                        dilation=dilation, groups=groups)
    _check_forward_and_backward(ours, theirs, (tx, tw, tb), (px, pw, pb))
    if width == conv_ops.BATCH_LAST_MAX_WIDTH:  # the public function takes the same path
        public = getattr(NF, f"conv{dims}d")(*(tg.Tensor(t.data, dtype=np.float64)
                                               for t in (tx, tw, tb)),
                                             stride, padding, dilation, groups)
        np.testing.assert_allclose(public.data, ours.data, rtol=1e-12)


TRANSPOSED_CASES = [  # x shape, w shape, stride, padding, output_padding, groups, dilation
    ((2, 3, 7), (3, 2, 4), 2, 1, 1, 1, 1),
    ((1, 4, 5), (4, 1, 3), 3, 0, 2, 2, 2),
    ((2, 4, 5, 6), (4, 3, 3, 3), 2, 1, 1, 1, 1),
    ((2, 4, 4, 5), (4, 1, 3, 2), (2, 1), (1, 0), (1, 0), 4, (1, 2)),
    ((1, 2, 3, 4, 3), (2, 2, 2, 3, 2), (2, 1, 2), 0, (1, 0, 0), 1, 1),
]


@pytest.mark.parametrize("xs, ws, stride, padding, output_padding, groups, dilation",
                         TRANSPOSED_CASES)
def test_conv_transpose_matches_torch(xs, ws, stride, padding, output_padding, groups,
                                      dilation):
    rng = np.random.default_rng(1)
    bias = rng.standard_normal(ws[1] * groups)
    (tx, tw, tb), (px, pw, pb) = _tensors(rng.standard_normal(xs), rng.standard_normal(ws), bias)
    dims = len(xs) - 2
    args = (stride, padding, output_padding, groups, dilation)
    ours = getattr(NF, f"conv_transpose{dims}d")(tx, tw, tb, *args)
    theirs = getattr(F, f"conv_transpose{dims}d")(px, pw, pb, *args)
    _check_forward_and_backward(ours, theirs, (tx, tw, tb), (px, pw, pb))


@settings(max_examples=15)
@given(dims=st.integers(1, 3), seed=st.integers(0, 2**16), data=st.data())
def test_conv_transpose_second_derivatives_match_torch(dims, seed, data):
    stride = data.draw(st.integers(1, 2))
    out_pad = data.draw(st.integers(0, stride - 1))
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, 2) + (3,) * dims), rng.standard_normal((2, 3) + (2,) * dims)
    (tx, tw), (px, pw) = _tensors(x, w)
    ours_fn, theirs_fn = getattr(NF, f"conv_transpose{dims}d"), getattr(F, f"conv_transpose{dims}d")
    (gx,) = tg.grad(ours_fn(tx, tw, stride=stride, output_padding=out_pad).tanh().sum(), tx,
                    create_graph=True)
    (gx_t,) = torch.autograd.grad(theirs_fn(px, pw, stride=stride, output_padding=out_pad)
                                  .tanh().sum(), px, create_graph=True)
    (gx * gx).sum().backward()
    (gx_t * gx_t).sum().backward()
    np.testing.assert_allclose(tw.grad.data, pw.grad.numpy(), rtol=1e-9)


def test_conv_second_derivatives_match_torch():
    rng = np.random.default_rng(3)
    (tx, tw), (px, pw) = _tensors(rng.standard_normal((1, 2, 5, 5)),
                                  rng.standard_normal((3, 2, 3, 3)))
    (gx,) = tg.grad(tg.conv2d(tx, tw, padding=1).tanh().sum(), tx, create_graph=True)
    (gx_t,) = torch.autograd.grad(F.conv2d(px, pw, padding=1).tanh().sum(), px, create_graph=True)
    (gx * gx).sum().backward()
    (gx_t * gx_t).sum().backward()
    np.testing.assert_allclose(tw.grad.data, pw.grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize("fn, x_shape, w_shape, kwargs", [
    ("conv1d", (0, 3, 9), (2, 3, 3), {}),
    ("conv2d", (0, 4, 20, 20), (2, 2, 3, 3), {"groups": 2}),
    ("conv3d", (0, 2, 4, 4, 4), (3, 2, 2, 2, 2), {"stride": 2, "padding": 1}),
    ("conv_transpose1d", (0, 2, 5), (2, 3, 3), {"stride": 2, "output_padding": 1}),
    ("conv_transpose2d", (0, 2, 4, 4), (2, 3, 3, 3), {}),
    ("conv_transpose3d", (0, 2, 2, 2, 2), (2, 1, 2, 2, 2), {"stride": 2}),
])
def test_empty_batches_match_torch(fn, x_shape, w_shape, kwargs):
    w = np.random.default_rng(0).standard_normal(w_shape)
    (tx, tw), (px, pw) = _tensors(np.zeros(x_shape), w)
    ours, theirs = getattr(NF, fn)(tx, tw, **kwargs), getattr(F, fn)(px, pw, **kwargs)
    assert ours.shape == tuple(theirs.shape)
    _check_forward_and_backward(ours, theirs, (tx, tw), (px, pw))


@pytest.mark.parametrize("call, error, match", [
    (lambda: NF.conv1d(tg.ones(1, 2, 5), tg.ones(1, 2, 3, 3)), ValueError,
     r"conv1d: expected input \(N, C, L\) and weight"),
    (lambda: NF.conv3d(tg.ones(1, 2, 5, 5), tg.ones(1, 2, 3, 3)), ValueError,
     r"conv3d: expected input \(N, C, D, H, W\)"),
    (lambda: NF.conv3d(tg.ones(1, 2, 5, 5, 5), tg.ones(1, 2, 3, 3, 3), stride=(1, 2)),
     TypeError, "conv3d: stride must be an int or a triple of ints"),
    (lambda: NF.conv_transpose2d(tg.ones(1, 2, 5, 5), tg.ones(2, 1, 3, 3), stride=2,
                                 output_padding=2), ValueError,
     "conv_transpose2d: output_padding .* smaller than the stride"),
    (lambda: NF.conv_transpose1d(tg.ones(1, 3, 5), tg.ones(2, 1, 3)), ValueError,
     "conv_transpose1d: weight of shape .* expects 2 input channels"),
    (lambda: NF.conv_transpose1d(tg.ones(1, 2, 1), tg.ones(2, 1, 1), padding=1), ValueError,
     "conv_transpose1d: the output size .* is empty"),
    (lambda: NF.conv1d(tg.ones(1, 2, 5), tg.ones(3, 2, 3), tg.ones(2)), ValueError,
     r"conv1d: bias must have shape \(3,\)"),
    (lambda: NF.convolution(tg.ones(2, 5), tg.ones(1, 2)), ValueError,
     "convolution: expected an .* input with 1 to 3 spatial axes"),
    (lambda: nn.Conv1d(2, 4, 3)(tg.ones(1, 2, 5, 5)), ValueError,
     r"Conv1d: expected input \(N, C, L\)"),
    (lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=2), ValueError,
     "ConvTranspose2d: output_padding"),
    (lambda: nn.Conv3d(2, 4, (3, 3)), TypeError, "Conv3d: kernel_size must be an int or a triple"),
])
def test_bad_arguments_name_the_function(call, error, match):
    with pytest.raises(error, match=match):
        call()


LAYERS = [  # ours, PyTorch's, input shape
    (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=np.float64),
     lambda: torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 11)),
    (lambda: nn.Conv3d(2, 3, (2, 3, 2), dilation=(1, 2, 1), bias=False, dtype=np.float64),
     lambda: torch.nn.Conv3d(2, 3, (2, 3, 2), dilation=(1, 2, 1), bias=False), (1, 2, 4, 7, 5)),
    (lambda: nn.ConvTranspose1d(3, 4, 4, stride=2, padding=1, dtype=np.float64),
     lambda: torch.nn.ConvTranspose1d(3, 4, 4, stride=2, padding=1), (2, 3, 6)),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                dtype=np.float64),
     lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 5, 5)),
    (lambda: nn.ConvTranspose3d(2, 2, 2, stride=2, dilation=1, dtype=np.float64),
     lambda: torch.nn.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("ours, theirs, x_shape", LAYERS)
def test_layers_load_pytorch_state_dicts_and_match(ours, theirs, x_shape):
    torch.manual_seed(0)
    ref, layer = theirs().double(), ours()
    assert {k: tuple(v.shape) for k, v in ref.state_dict().items()} == \
        {k: v.shape for k, v in layer.state_dict().items()}
    layer.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal(x_shape)
    out = layer(tg.Tensor(x, dtype=np.float64))
    np.testing.assert_allclose(out.data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-10,
                               atol=1e-12)
