"""Convolutions over a batch split across threads (`ops.batch_split`): the same numbers as
one thread and as PyTorch, for every op, layout, rank and setting, and exact gradients."""

import threading

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd.nn import conv_functional
from tinygrad_nd.ops import batch_split
from tinygrad_nd.registry import apply

torch = pytest.importorskip("torch")
F = torch.nn.functional

SPLIT = dict(split_min_work=0, threads=3)         # always split, into up to 3 chunks
ONE = dict(split_min_work=float("inf"))           # never split

CASES = [  # x shape, w shape, stride, padding, dilation, groups
    ((7, 1, 28, 28), (8, 1, 5, 5), 1, 0, 1, 1),      # the benchmark CNN's layers
    ((8, 8, 12, 12), (16, 8, 5, 5), 1, 0, 1, 1),
    ((5, 4, 10, 9), (6, 2, 3, 3), (1, 2), (2, 1), 2, 2),
    ((4, 4, 7, 7), (4, 1, 5, 5), 2, 2, 1, 4),         # depthwise, strided
    ((17, 4, 8, 8), (6, 2, 3, 3), 1, 1, 1, 2),        # blocked batch-last copies
    ((2, 3, 40), (4, 3, 5), 2, 2, 1, 1),              # 1-D; fewer images than threads
    ((3, 2, 6, 7, 8), (4, 2, 3, 2, 3), (1, 2, 1), (1, 0, 1), 1, 1),  # 3-D
]


def _conf(xs, ws, stride, padding, dilation, groups):
    return conv_functional._conv_config(xs, ws, stride, padding, dilation, groups,
                                        len(xs) - 2, "test")


def _run(op_args, conf, width, split, g, **tuning):
    x, w = (tg.Tensor(a, dtype=a.dtype, requires_grad=True) for a in op_args)
    out = apply("convolution", x, w, **conf, batch_last_max_width=width, **split, **tuning)
    out.backward(g)
    return out.data, x.grad.data, w.grad.data


def test_batch_chunks_cover_the_batch_in_order():
    assert batch_split.batch_chunks(10, 1e9, 1e6, threads=4) == [
        slice(0, 3), slice(3, 6), slice(6, 8), slice(8, 10)]
    assert batch_split.batch_chunks(2, 1e9, 0, threads=3) == [slice(0, 1), slice(1, 2)]
    assert batch_split.batch_chunks(10, 1e5, 1e6, threads=4) == [slice(0, 10)]
    assert batch_split.batch_chunks(0, 1e9, 0, threads=4) == [slice(0, 0)]


@pytest.mark.parametrize("width", [0, 10**6], ids=["per_image", "batch_last"])
@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CASES)
def test_split_convolution_matches_torch_and_one_thread(xs, ws, stride, padding, dilation,
                                                        groups, width):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    conf = _conf(xs, ws, stride, padding, dilation, groups)
    px, pw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    theirs = getattr(F, f"conv{len(xs) - 2}d")(px, pw, stride=stride, padding=padding,
                                               dilation=dilation, groups=groups)
    g = rng.standard_normal(theirs.shape)
    theirs.backward(torch.tensor(g))
    split = _run((x, w), conf, width, SPLIT, g)
    for ours, ref in zip(split, (theirs.detach().numpy(), px.grad.numpy(), pw.grad.numpy())):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)
    # float32: within rounding of one thread (the weight gradient sums its chunks' shares)
    x32, w32, g32 = (a.astype(np.float32) for a in (x, w, g))
    for a, b in zip(_run((x32, w32), conf, width, SPLIT, g32),
                    _run((x32, w32), conf, width, ONE, g32)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5 * np.abs(b).max())


@pytest.mark.parametrize("per_offset_max_bytes", [0, 10**12], ids=["columns", "per_offset"])
@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CASES)
def test_both_input_gradient_algorithms_match_torch(xs, ws, stride, padding, dilation, groups,
                                                     per_offset_max_bytes):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    px, pw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    theirs = getattr(F, f"conv{len(xs) - 2}d")(px, pw, stride=stride, padding=padding,
                                               dilation=dilation, groups=groups)
    g = rng.standard_normal(theirs.shape)
    theirs.backward(torch.tensor(g))
    conf = _conf(xs, ws, stride, padding, dilation, groups)
    for split in (ONE, SPLIT):
        _, gx, gw = _run((x, w), conf, 12, split, g, per_offset_max_bytes=per_offset_max_bytes)
        np.testing.assert_allclose(gx, px.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gw, pw.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("per_offset_max_bytes", [0, 10**12], ids=["columns", "per_offset"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_split_transposed_convolution_and_weight_gradient_op_match_torch(dims,
                                                                         per_offset_max_bytes):
    rng = np.random.default_rng(dims)
    xs, ws = (9, 4) + (5,) * dims, (4, 3) + (3,) * dims
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    (tx, tw), (px, pw) = ([tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w)],
                          [torch.tensor(a, requires_grad=True) for a in (x, w)])
    conf = conv_functional._conv_config(xs, ws, 2, 1, 1, 1, dims, "test", True, 1)
    ours = apply("convolution_input_grad", tx, tw, **conf, **SPLIT,
                 per_offset_max_bytes=per_offset_max_bytes)
    theirs = getattr(F, f"conv_transpose{dims}d")(px, pw, stride=2, padding=1,
                                                  output_padding=1)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(theirs.shape)
    ours.backward(g)  # the general backward: convolution and convolution_weight_grad ops
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.data, px.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tw.grad.data, pw.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op", ["convolution", "convolution_input_grad"])
def test_split_gradients_are_exact(op):
    rng = np.random.default_rng(5)
    a = tg.Tensor(rng.standard_normal((3, 2, 4, 3)), requires_grad=True)
    conf = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=1, **SPLIT)
    if op == "convolution_input_grad":  # a is the gradient of a (3, 3, 7, 5) input's conv
        w, conf["x_shape"] = tg.Tensor(rng.standard_normal((2, 3, 3, 2))), (3, 3, 7, 5)
    else:
        w = tg.Tensor(rng.standard_normal((3, 2, 3, 2)))
    w.requires_grad = True

    def fn(a, w):
        return apply(op, a, w, **conf)

    assert tg.gradcheck(fn, (a, w))
    assert tg.gradgradcheck(fn, (a, w))


def test_split_results_do_not_depend_on_thread_timing():
    rng = np.random.default_rng(2)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in ((16, 8, 12, 12), (16, 8, 5, 5)))
    g = rng.standard_normal((16, 16, 8, 8)).astype(np.float32)
    conf = _conf(x.shape, w.shape, 1, 0, 1, 1)
    first = _run((x, w), conf, 12, SPLIT, g)
    for _ in range(3):
        for a, b in zip(_run((x, w), conf, 12, SPLIT, g), first):
            np.testing.assert_array_equal(a, b)


def test_a_failing_chunk_raises_after_every_chunk_finished():
    finished = []

    def chunk(i, s):
        if i == 1:
            raise ValueError("chunk 1 failed")
        threading.Event().wait(0.05)
        finished.append(i)
        return i

    with pytest.raises(ValueError, match="chunk 1 failed"):
        batch_split.run_chunks(chunk, [slice(0, 1), slice(1, 2), slice(2, 3)])
    assert sorted(finished) == [0, 2]  # the others ran to their end


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_splits_with_threads_of_its_own():
    import multiprocessing

    x, w = np.ones((8, 2, 9, 9)), np.ones((3, 2, 3, 3))
    conf = _conf(x.shape, w.shape, 1, 0, 1, 1)
    _run((x, w), conf, 12, SPLIT, np.ones((8, 3, 7, 7)))   # the parent's pool exists
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child_pool_before, result = pool.apply(_child_split, (x, w, conf))
    assert child_pool_before is None
    np.testing.assert_array_equal(result, np.full((8, 3, 7, 7), 18.0))


def _child_split(x, w, conf):
    before = batch_split._pool
    return before, apply("convolution", tg.Tensor(x), tg.Tensor(w), **conf, **SPLIT).data


def test_work_left_queued_for_a_busy_pool_holds_no_arrays():
    """On a loaded machine a pool thread may get no core for a while; the call must not wait
    for it, nor keep the step's arrays alive through the queued task."""
    import weakref

    release = threading.Event()
    pool = batch_split._executor(1)
    blockers = [pool.submit(release.wait) for _ in range(pool._max_workers)]
    try:
        data = np.ones(1000)
        alive = weakref.ref(data)
        sums = batch_split.run_chunks(lambda i, s, d=data: float(d[s].sum()),
                                      [slice(0, 500), slice(500, 1000)])
        assert sums == [500.0, 500.0]   # the calling thread did both chunks
        del data
        assert alive() is None
    finally:
        release.set()
        for b in blockers:
            b.result()


def test_chunks_run_in_the_callers_floating_point_state():
    """The engine's backward ignores some floating-point events (np.errstate, a context
    variable): chunks on the pool's threads must see the same state as the caller."""
    second_started = threading.Event()
    states = {}

    def chunk(i, s):
        states[i] = np.geterr()["invalid"]
        if len(states) == 1:
            second_started.wait(5)   # so that the other chunk runs on the other thread
        else:
            second_started.set()
        return i

    with np.errstate(invalid="ignore"):
        batch_split.run_chunks(chunk, [slice(0, 1), slice(1, 2)])
    assert states == {0: "ignore", 1: "ignore"}


def test_set_conv_threads_chooses_the_default_split():
    try:
        tg.set_conv_threads(3)
        assert len(batch_split.batch_chunks(10, work=1.0, min_work=0)) == 3
        tg.set_conv_threads(1)
        assert batch_split.batch_chunks(10, work=1.0, min_work=0) == [slice(0, 10)]
        # a convolution asked to always split, with the setting at one thread, computes on
        # the calling thread: the very numbers of the never-split run
        rng = np.random.default_rng(0)
        xs, ws = (6, 2, 9, 9), (4, 2, 3, 3)
        args = (rng.standard_normal(xs), rng.standard_normal(ws))
        g = rng.standard_normal((6, 4, 7, 7))
        conf = _conf(xs, ws, 1, 0, 1, 1)
        split, one = _run(args, conf, 12, dict(split_min_work=0), g), _run(args, conf, 12, ONE, g)
        for a, b in zip(split, one):
            np.testing.assert_array_equal(a, b)
        with pytest.raises(ValueError, match="set_conv_threads: .*positive int or None"):
            tg.set_conv_threads(0)
    finally:
        tg.set_conv_threads(None)
    assert batch_split.default_threads() >= 1 and batch_split._chosen_threads[0] is None
