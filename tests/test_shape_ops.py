"""Shape functions (tinygrad_nd/reshaping.py) against PyTorch: forward and gradient,
negative dims, empty and 0-d tensors, and errors that name the function."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_selection_ops import check_vs_torch

import tinygrad_nd as tg
import tinygrad_nd.nn.functional as NF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 3, 4))
M = RNG.standard_normal((3, 5))
E = np.zeros((0, 3))
S = np.array(1.5)

# (label, array, ours, theirs): the same call in both libraries (a method where both have it).
CASES = [
    ("flip", A, lambda x: x.flip(0, -1), lambda x: x.flip(0, -1)),
    ("flip-fn", A, lambda x: tg.flip(x, (1,)), lambda x: torch.flip(x, (1,))),
    ("flip-0d", S, lambda x: x.flip(0), lambda x: x.flip(0)),
    ("flip-empty", E, lambda x: x.flip(0), lambda x: x.flip(0)),
    ("roll", A, lambda x: x.roll(1, 2), lambda x: x.roll(1, 2)),
    ("roll-neg", A, lambda x: x.roll((-5, 2), (-1, 0)), lambda x: x.roll((-5, 2), (-1, 0))),
    ("roll-flat", A, lambda x: tg.roll(x, 7), lambda x: torch.roll(x, 7)),
    ("roll-empty", E, lambda x: x.roll(2, 0), lambda x: x.roll(2, 0)),
    ("repeat", M, lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3)),
    ("repeat-0", M, lambda x: x.repeat(0, 2), lambda x: x.repeat(0, 2)),
    ("repeat-0d", S, lambda x: x.repeat(3), lambda x: x.repeat(3)),
    ("tile", A, lambda x: x.tile(2, 1), lambda x: x.tile(2, 1)),
    ("tile-more", M, lambda x: tg.tile(x, (2, 1, 2)), lambda x: torch.tile(x, (2, 1, 2))),
    ("repeat_interleave", M, lambda x: x.repeat_interleave(2, 1),
     lambda x: x.repeat_interleave(2, 1)),
    ("repeat_interleave-flat", M, lambda x: x.repeat_interleave(3),
     lambda x: x.repeat_interleave(3)),
    ("repeat_interleave-tensor", M,
     lambda x: x.repeat_interleave(tg.tensor([0, 2, 1]), dim=0),
     lambda x: x.repeat_interleave(torch.tensor([0, 2, 1]), dim=0)),
    ("repeat_interleave-neg", A, lambda x: tg.repeat_interleave(x, np.array([1, 0, 3, 2]), -1),
     lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 3, 2]), -1)),
    ("repeat_interleave-0d", S, lambda x: x.repeat_interleave(2),
     lambda x: x.repeat_interleave(2)),
    ("chunk", M, lambda x: x.chunk(2, 1), lambda x: x.chunk(2, 1)),
    ("chunk-more", M, lambda x: tg.chunk(x, 4, -1), lambda x: torch.chunk(x, 4, -1)),
    ("chunk-empty", E, lambda x: x.chunk(3), lambda x: x.chunk(3)),
    ("unbind", A, lambda x: x.unbind(1), lambda x: x.unbind(1)),
    ("unbind-neg", A, lambda x: tg.unbind(x, -1), lambda x: torch.unbind(x, -1)),
    ("unflatten", A, lambda x: x.unflatten(-1, (2, 2)), lambda x: x.unflatten(-1, (2, 2))),
    ("unflatten-minus1", A, lambda x: tg.unflatten(x, 1, (-1, 1)),
     lambda x: torch.unflatten(x, 1, (-1, 1))),
    ("movedim", A, lambda x: x.movedim(0, -1), lambda x: x.movedim(0, -1)),
    ("movedim-many", A, lambda x: tg.movedim(x, (0, 1), (2, 0)),
     lambda x: torch.movedim(x, (0, 1), (2, 0))),
    ("moveaxis", A, lambda x: tg.moveaxis(x, -1, 0), lambda x: torch.moveaxis(x, -1, 0)),
    ("swapaxes", A, lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2)),
    ("swapdims", A, lambda x: tg.swapdims(x, -1, 1), lambda x: torch.swapdims(x, -1, 1)),
    ("narrow", A, lambda x: x.narrow(2, 1, 2), lambda x: x.narrow(2, 1, 2)),
    ("narrow-neg", A, lambda x: tg.narrow(x, -1, -3, 3), lambda x: torch.narrow(x, -1, -3, 3)),
    ("narrow-empty", A, lambda x: x.narrow(1, 3, 0), lambda x: x.narrow(1, 3, 0)),
    ("tril", A, lambda x: x.tril(), lambda x: x.tril()),
    ("tril-k", M, lambda x: tg.tril(x, -1), lambda x: torch.tril(x, -1)),
    ("triu", A, lambda x: x.triu(1), lambda x: x.triu(1)),
    ("triu-far", M, lambda x: tg.triu(x, -7), lambda x: torch.triu(x, -7)),
    ("triu-empty", E, lambda x: x.triu(), lambda x: x.triu()),
    ("diagonal", M, lambda x: x.diagonal(), lambda x: x.diagonal()),
    ("diagonal-offset", M, lambda x: x.diagonal(2), lambda x: x.diagonal(2)),
    ("diagonal-neg", A, lambda x: tg.diagonal(x, -1, -1, 0),
     lambda x: torch.diagonal(x, -1, -1, 0)),
    ("diagonal-outside", M, lambda x: x.diagonal(9), lambda x: x.diagonal(9)),
    ("diag_embed", M, lambda x: x.diag_embed(), lambda x: x.diag_embed()),
    ("diag_embed-offset", M, lambda x: tg.diag_embed(x, 1, 0, 2),
     lambda x: torch.diag_embed(x, 1, 0, 2)),
    ("diag_embed-neg", A, lambda x: x.diag_embed(-2, -1, 1), lambda x: x.diag_embed(-2, -1, 1)),
    ("pad-constant", A, lambda x: NF.pad(x, (1, 2, 0, 1), value=0.5),
     lambda x: TF.pad(x, (1, 2, 0, 1), value=0.5)),
    ("pad-crop", A, lambda x: NF.pad(x, (-1, 2, 1, -2)), lambda x: TF.pad(x, (-1, 2, 1, -2))),
    ("pad-crop-all", M, lambda x: NF.pad(x, (-2, -3)), lambda x: TF.pad(x, (-2, -3))),
    ("pad-reflect", A, lambda x: NF.pad(x, (3, 1), mode="reflect"),
     lambda x: TF.pad(x, (3, 1), mode="reflect")),
    ("pad-reflect-2d", A[None], lambda x: NF.pad(x, (1, 2, 2, 0), mode="reflect"),
     lambda x: TF.pad(x, (1, 2, 2, 0), mode="reflect")),
    ("pad-replicate", A, lambda x: NF.pad(x, (5, 1), mode="replicate"),
     lambda x: TF.pad(x, (5, 1), mode="replicate")),
    ("pad-replicate-2d", A[None], lambda x: NF.pad(x, (0, 2, 3, 1), mode="replicate"),
     lambda x: TF.pad(x, (0, 2, 3, 1), mode="replicate")),
    ("pad-circular", A, lambda x: NF.pad(x, (4, 2), mode="circular"),
     lambda x: TF.pad(x, (4, 2), mode="circular")),
    ("pad-circular-crop", A[None], lambda x: NF.pad(x, (-1, 2, 1, 3), mode="circular"),
     lambda x: TF.pad(x, (-1, 2, 1, 3), mode="circular")),
    ("pad-reflect-crop", A, lambda x: NF.pad(x, (-1, 3), mode="reflect"),
     lambda x: TF.pad(x, (-1, 3), mode="reflect")),
    ("pad-reflect-crop-2d", A[None], lambda x: NF.pad(x, (2, -2, -1, 2), mode="reflect"),
     lambda x: TF.pad(x, (2, -2, -1, 2), mode="reflect")),
    ("pad-replicate-crop", A[None], lambda x: NF.pad(x, (-1, 2, 3, -2), mode="replicate"),
     lambda x: TF.pad(x, (-1, 2, 3, -2), mode="replicate")),
]


@pytest.mark.parametrize("label, array, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_shape_function_matches_torch(label, array, ours, theirs):
    check_vs_torch(ours, theirs, array)


NONEMPTY = [c for c in CASES if c[1].ndim and c[1].size]


@pytest.mark.parametrize("label, array, ours, theirs", NONEMPTY, ids=[c[0] for c in NONEMPTY])
def test_shape_function_on_integers_and_float32_keeps_dtype(label, array, ours, theirs):
    for dtype in (np.float32, np.int64):
        out = ours(tg.Tensor(array.astype(dtype), dtype=dtype))
        for o in (out if isinstance(out, (list, tuple)) else [out]):
            assert o.dtype == dtype, label


def test_shape_functions_are_twice_differentiable():
    x = tg.Tensor(M, requires_grad=True)
    assert tg.gradgradcheck(lambda a: NF.pad(a, (2, 1, 1, 1), mode="reflect") ** 2, (x,))
    assert tg.gradgradcheck(lambda a: a.diag_embed(1).triu().roll(1, 0) ** 2, (x,))
    assert tg.gradgradcheck(lambda a: a.repeat_interleave(tg.tensor([2, 0, 1]), 0) ** 2, (x,))


def test_tril_keeps_inf_outside_the_triangle_out():
    x = tg.Tensor([[1.0, np.inf], [np.inf, 2.0]])
    assert x.tril().tolist() == [[1.0, 0.0], [np.inf, 2.0]]


def test_repeat_interleave_of_counts_alone():
    assert tg.repeat_interleave(tg.tensor([1, 0, 2])).tolist() == [0, 2, 2]
    assert tg.repeat_interleave(tg.ones(2), 2, output_size=4).shape == (4,)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.flip(0, -2), RuntimeError, "flip: dim appears multiple times"),
    (lambda x: x.flip(3), IndexError, "flip: dims=3 is out of range"),
    (lambda x: x.roll((1, 2), 0), RuntimeError, "roll: shifts"),
    (lambda x: x.repeat(2), RuntimeError, "repeat: the number of repeat dims"),
    (lambda x: x.repeat_interleave(tg.tensor([1, 2]), 0), RuntimeError,
     "repeat_interleave: repeats must have the same size"),
    (lambda x: x.repeat_interleave(-1), RuntimeError, "repeat_interleave: repeats can not be"),
    (lambda x: x.repeat_interleave(2, output_size=5), RuntimeError, "output_size=5"),
    (lambda x: x.chunk(0), RuntimeError, "chunk: chunks must be a positive int"),
    (lambda x: x.unflatten(1, (2, 2)), RuntimeError, "unflatten: sizes"),
    (lambda x: x.movedim((0, 1), 0), RuntimeError, "movedim: source"),
    (lambda x: x.narrow(0, 1, 5), RuntimeError, "narrow: start"),
    (lambda x: x.narrow(0, 9, 1), IndexError, "narrow: start 9 is out of range"),
    (lambda x: x[0].tril(), RuntimeError, "tril: input tensor must have at least 2"),
    (lambda x: x.diagonal(0, 1, -1), RuntimeError, "diagonal: dim1 and dim2"),
    (lambda x: x.diag_embed(0, 0, 3), IndexError, "diag_embed: dim2=3 is out of range"),
    (lambda x: NF.pad(x, (1,)), ValueError, "pad: pad must have an even length"),
    (lambda x: NF.pad(x, (1, 1), mode="wrap"), ValueError, "pad: mode must be one of"),
    (lambda x: NF.pad(x, (5, 0), mode="reflect"), RuntimeError, "pad: widths .* too large"),
    (lambda x: NF.pad(x, (6, 0), mode="circular"), RuntimeError, "pad: widths .* too large"),
    (lambda x: NF.pad(x, (-3, -3)), RuntimeError, "pad: widths .* crop more"),
    (lambda x: NF.pad(x, (1, 1), mode="reflect", value=1.0), ValueError, "value is only used"),
])
def test_bad_arguments_name_the_function(call, error, message):
    with pytest.raises(error, match=message):
        call(tg.Tensor(M))


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_pad_modes_and_roll_match_torch_on_random_shapes(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5))
    array = np.random.default_rng(data.draw(st.integers(0, 2**16))).standard_normal(shape)
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    padded = data.draw(st.integers(1, min(3, len(shape) - 1)))  # torch: batch/channel dims
    widths = []
    for s in shape[::-1][:padded]:
        # torch's limits: reflect pads < size (of the tensor: it pads, then crops), circular
        # pads <= size (after its crop); the order of the draws keeps both.
        lo, hi = (data.draw(st.integers(-1 if s > 2 else 0, 3)) for _ in range(2))
        if mode == "reflect":
            lo, hi = min(lo, s - 1), min(hi, s - 1)
        if mode == "circular":
            kept = s - max(-lo, 0) - max(-hi, 0)
            lo, hi = min(lo, kept), min(hi, kept)
        widths += [lo, hi]
    if mode != "constant" and (len(shape) - padded < 1 or len(shape) > padded + 2):
        mode = "constant"  # torch takes (N,) C, spatial... only for the other modes
    check_vs_torch(lambda x: NF.pad(x, widths, mode=mode),
                   lambda x: TF.pad(x, widths, mode=mode), array)
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=1, max_size=len(shape)))
    dims = data.draw(st.permutations(range(-len(shape), 0)))[:len(shifts)]
    check_vs_torch(lambda x: x.roll(shifts, dims), lambda x: x.roll(shifts, dims), array)


PUBLIC = ("flip", "roll", "repeat", "repeat_interleave", "tile", "chunk", "unbind", "unflatten",
          "movedim", "moveaxis", "swapaxes", "swapdims", "narrow", "tril", "triu", "diagonal",
          "diag_embed", "gather", "scatter", "scatter_add", "scatter_reduce", "index_select",
          "masked_fill", "masked_select", "take_along_dim", "nonzero")


@pytest.mark.parametrize("name", PUBLIC)
def test_each_is_a_tensor_method_and_a_top_level_function(name):
    assert callable(getattr(tg.Tensor, name)) and callable(getattr(tg, name))
    assert name in tg.__all__


@pytest.mark.parametrize("call", [lambda x: x.roll(0, 0), lambda x: x.roll(5, 1),
                                  lambda x: x.movedim(0, 0), lambda x: NF.pad(x, (0, 0)),
                                  lambda x: NF.pad(x, (0, 0), mode="reflect"),
                                  lambda x: x.flip(()), lambda x: x.tile(())])
def test_a_call_that_changes_nothing_still_returns_a_new_tensor(call):
    x = tg.Tensor(M, requires_grad=True)
    out = call(x)
    assert out is not x and out.tolist() == x.tolist() and not out.is_leaf
