"""Indexing and dimension arguments against PyTorch.

PyTorch applies an integer index as a ``select`` before the advanced (array, mask) indices;
numpy counts it among them, so ``x[1, :, idx]`` has different shapes in the two. tinygrad_nd
follows PyTorch: values, shape and gradient are compared with ``torch`` on generated index
tuples. Dimension arguments out of range raise PyTorch's errors instead of wrapping around.
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd.functional import index_add

torch = pytest.importorskip("torch")


@st.composite
def shapes_and_indices(draw):
    """A small shape and an index tuple of ints, slices (steps > 0), None, one Ellipsis,
    integer arrays (broadcastable) or one boolean mask, within the shape's dimensions."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    use_mask = draw(st.integers(0, 2)) == 0
    array_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    items, dim, ellipsis = [], 0, False
    for _ in range(draw(st.integers(2, 5))):
        left = len(shape) - dim
        kinds = ["none"] + (["ellipsis"] if not ellipsis else [])
        if left:  # ints and arrays first: their mix is where numpy and torch differ
            kinds = ["int", "mask" if use_mask else "array", "slice"] + kinds
        kind = draw(st.sampled_from(kinds))
        if kind == "none":
            items.append(None)
        elif kind == "ellipsis":
            items.append(Ellipsis)
            ellipsis = True
        elif kind == "int":
            items.append(draw(st.integers(-shape[dim], shape[dim] - 1)))
            dim += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-shape[dim] - 1, shape[dim] + 1))
            stop = draw(st.none() | st.integers(-shape[dim] - 1, shape[dim] + 1))
            items.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
            dim += 1
        elif kind == "array":
            sub = array_shape[draw(st.integers(0, len(array_shape) - 1)):]
            values = draw(st.lists(st.integers(-shape[dim], shape[dim] - 1),
                                   min_size=int(np.prod(sub)), max_size=int(np.prod(sub))))
            items.append(np.array(values, dtype=np.int64).reshape(sub))
            dim += 1
        elif kind == "mask":
            width = draw(st.integers(1, min(2, left)))
            mask_shape = shape[dim:dim + width]
            values = draw(st.lists(st.booleans(), min_size=int(np.prod(mask_shape)),
                                   max_size=int(np.prod(mask_shape))))
            items.append(np.array(values, dtype=bool).reshape(mask_shape))
            dim += width
            use_mask = False  # one mask per index keeps the broadcast rules simple
    return shape, tuple(items)


@st.composite
def int_and_array_indices(draw):
    """The family where the rules differ: an int, an int array (or a mask) and slices/None
    in some order, on 3 or 4 dims."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=3, max_size=4)))
    kinds = draw(st.permutations(["int", "array", "slice"] + draw(
        st.lists(st.sampled_from(["slice", "none"]), max_size=len(shape) - 3))))
    items, dim = [], 0
    for kind in kinds:
        if kind == "none":
            items.append(None)
            continue
        size = shape[dim]
        if kind == "int":
            items.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            items.append(slice(draw(st.none() | st.integers(0, size)), None,
                               draw(st.none() | st.integers(1, 2))))
        elif draw(st.booleans()):
            items.append(np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))))
        else:
            items.append(np.array(draw(st.lists(st.integers(-size, size - 1), min_size=1,
                                                max_size=3)), dtype=np.int64))
        dim += 1
    return shape, tuple(items)


INDEX_CASES = st.one_of(shapes_and_indices(), int_and_array_indices())


def _torch_index(index):
    return tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)


def _run_both(shape, index, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    theirs_x = torch.tensor(x, requires_grad=True)
    try:
        theirs = theirs_x[_torch_index(index)]
    except (IndexError, RuntimeError, ValueError):
        with pytest.raises((IndexError, ValueError)):
            tg.Tensor(x, dtype=np.float64)[index]
        return None
    ours_x = tg.Tensor(x, dtype=np.float64, requires_grad=True)
    try:
        ours = ours_x[index]
    except IndexError:
        # numpy checks bounds even when another index empties the result; PyTorch does not.
        assert theirs.numel() == 0, (shape, index)
        return None
    return x, ours_x, ours, theirs_x, theirs, rng.standard_normal(tuple(theirs.shape))


CASES = [((2, 3, 4), (1, slice(None), np.array([0, 1]))),
         ((2, 3, 4, 5), (slice(None), np.array([0, 2]), slice(None), 1)),
         ((4, 3, 5, 6), (None, 1, slice(None), np.array([[0, 1], [2, 0]]))),
         ((2, 3, 4), (1, Ellipsis, np.array([3, 3]))),
         ((2, 3, 4), (slice(None), 1, np.array([True, False, True, True]))),
         ((3, 4), (np.array([2, 0]), 1))]


@pytest.mark.parametrize("shape, index", CASES)
def test_integer_then_array_index_puts_dimensions_where_torch_does(shape, index):
    x, _, ours, _, theirs, _ = _run_both(shape, index)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())


@given(INDEX_CASES)
@example(((2, 3, 4), (1, slice(None), np.array([0, 1]))))
@example(((2, 3, 4, 5), (slice(None), np.array([0, 2]), slice(None), 1)))
@example(((2, 3, 4), (np.array([1, 1]), slice(None), 0)))
@example(((1, 1, 2, 1), (slice(None, 0), 0, Ellipsis, np.array([1]))))
# an Ellipsis standing for no dimension separates advanced indices in numpy, not in torch
@example(((2, 1, 1, 1), (slice(None), 0, np.array([0, 0]), Ellipsis, 0)))
@example(((2, 1, 1, 1), (slice(None), 0, np.array([0, 0]), Ellipsis, np.array([0, 0]))))
@example(((1, 1, 1, 1), (slice(None), np.array([0, 0]), np.array([0, 0]), Ellipsis,
                         np.array([0, 0]))))
def test_getitem_values_shape_and_gradient_match_torch(case):
    shape, index = case
    both = _run_both(shape, index)
    if both is None:
        return
    x, ours_x, ours, theirs_x, theirs, g = both
    assert ours.shape == tuple(theirs.shape), (shape, index)
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    (ours * tg.Tensor(g, dtype=np.float64)).sum().backward()
    (theirs * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-12, atol=1e-12)
    # index_add is the adjoint of indexing: the same scatter, with the same layout.
    np.testing.assert_allclose(index_add(tg.Tensor(g, dtype=np.float64), index, shape).data,
                               theirs_x.grad.numpy(), rtol=1e-12, atol=1e-12)


@given(INDEX_CASES)
@example(((2, 3, 4), (1, slice(None), np.array([0, 1]))))
def test_setitem_follows_the_same_rule_as_torch(case):
    shape, index = case
    both = _run_both(shape, index)
    if both is None:
        return
    x, _, ours, _, theirs, value = both
    # Repeated positions make the written value order-dependent; only unique ones compare.
    positions = torch.arange(int(np.prod(shape))).reshape(shape)[_torch_index(index)]
    if positions.unique().numel() != positions.numel():
        return
    mine, reference = tg.Tensor(x, dtype=np.float64), torch.tensor(x)
    mine[index] = value
    reference[_torch_index(index)] = torch.from_numpy(value)
    np.testing.assert_array_equal(mine.data, reference.numpy())


def test_setitem_example_writes_along_the_torch_layout():
    t = tg.zeros(2, 3, 4, dtype=np.float64)
    t[1, :, [0, 1]] = np.arange(6.0).reshape(3, 2)  # PyTorch's shape of t[1, :, [0, 1]]
    assert t.data[1, :, :2].tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_zero_dim_integer_tensor_index_is_a_select_as_in_torch():
    x = np.arange(24.0).reshape(2, 3, 4)
    ours = tg.Tensor(x)[tg.Tensor(1), :, tg.Tensor([0, 1])]
    assert ours.shape == tuple(torch.tensor(x)[torch.tensor(1), :, torch.tensor([0, 1])].shape)


# ---- dimension arguments ---------------------------------------------------------------

SHAPE = r"\(4, 3, 1, 6\)"
DIM_CALLS = [
    ("squeeze", lambda t: t.squeeze(dim=6), IndexError,
     r"squeeze: dim=6 .*" + SHAPE + r".*\[-4, 3\]"),
    ("squeeze", lambda t: t.squeeze(-5), IndexError, r"squeeze: dim=-5"),
    ("squeeze", lambda t: t.squeeze((0, 9)), IndexError, r"squeeze: dim=9"),
    ("unsqueeze", lambda t: t.unsqueeze(5), IndexError, r"unsqueeze: dim=5 .*\[-5, 4\]"),
    ("unsqueeze", lambda t: t.unsqueeze(-6), IndexError, r"unsqueeze: dim=-6"),
    ("transpose", lambda t: t.transpose(0, 4), IndexError, r"transpose: dim1=4 .*\(4, 3, 1, 6\)"),
    ("transpose", lambda t: t.transpose(-5, 0), IndexError, r"transpose: dim0=-5"),
    ("flatten", lambda t: t.flatten(0, 4), IndexError, r"flatten: end_dim=4"),
    ("flatten", lambda t: t.flatten(2, 1), RuntimeError, r"flatten: start_dim=2 comes after"),
    ("softmax", lambda t: t.softmax(4), IndexError, r"softmax: axis 4"),
    ("sum", lambda t: t.sum(axis=4), IndexError, r"sum: axis 4 is out of range"),
    ("sum", lambda t: t.sum(axis=-5), IndexError, r"sum: axis -5"),
    ("permute", lambda t: t.permute(0, 1, 2), ValueError,
     r"permute: .*\(0, 1, 2\).*" + SHAPE),
    ("permute", lambda t: t.permute(0, 1, 1, 2), ValueError, r"permute: .*not a permutation"),
    ("permute", lambda t: t.permute(0, 1, 2, 7), ValueError, r"permute: .*\(0, 1, 2, 7\)"),
    ("expand", lambda t: t.expand(4, 2, 1, 6), ValueError,
     r"expand: .*" + SHAPE + r".*\(4, 2, 1, 6\)"),
    ("expand", lambda t: t.expand(3, 6), RuntimeError, r"expand: the number of sizes provided"),
    ("expand", lambda t: t.expand(-1, 4, 3, 1, 6), RuntimeError, r"expand: size -1 .*leading"),
    ("reshape", lambda t: t.reshape(5, 7), ValueError, r"reshape: .*\(4, 3, 1, 6\).*\(5, 7\)"),
    ("reshape", lambda t: t.reshape(-1, -1), ValueError, r"reshape: "),
]


@pytest.mark.parametrize("name, call, error, message", DIM_CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(DIM_CALLS)])
def test_bad_dimension_arguments_raise_like_torch(name, call, error, message):
    with pytest.raises(error, match=message):
        call(tg.zeros(4, 3, 1, 6))
    with pytest.raises((IndexError, RuntimeError, ValueError)):  # PyTorch refuses it too
        call(torch.zeros(4, 3, 1, 6))


@given(st.lists(st.integers(1, 3), min_size=1, max_size=4), st.data())
def test_valid_dimension_arguments_give_torch_shapes(shape, data):
    ndim = len(shape)
    size = max(ndim, 1)
    d0 = data.draw(st.integers(-size, size - 1))
    d1 = data.draw(st.integers(-size, size - 1))
    du = data.draw(st.integers(-ndim - 1, ndim))
    ours, theirs = tg.zeros(*shape), torch.zeros(*shape)
    assert ours.squeeze(d0).shape == tuple(theirs.squeeze(d0).shape)
    assert ours.squeeze().shape == tuple(theirs.squeeze().shape)
    assert ours.unsqueeze(du).shape == tuple(theirs.unsqueeze(du).shape)
    assert ours.transpose(d0, d1).shape == tuple(theirs.transpose(d0, d1).shape)
    lo, hi = sorted((d0 % size, d1 % size))
    assert ours.flatten(lo, hi).shape == tuple(theirs.flatten(lo, hi).shape)


@pytest.mark.parametrize("call", [lambda t: t.squeeze(1.0), lambda t: t.squeeze((0, 1.5)),
                                  lambda t: t.unsqueeze(True), lambda t: t.transpose(0, "1"),
                                  lambda t: t.flatten(0.0)])
def test_non_integer_dimension_arguments_raise_type_error_naming_the_method(call):
    with pytest.raises(TypeError, match=r"^(squeeze|unsqueeze|transpose|flatten): "):
        call(tg.zeros(4, 3, 1, 6))


def test_zero_dim_tensor_accepts_dim_0_and_minus_1_and_refuses_others():
    s, ts = tg.Tensor(3.0), torch.tensor(3.0)
    for dim in (0, -1):
        assert s.squeeze(dim).shape == tuple(ts.squeeze(dim).shape) == ()
    with pytest.raises(IndexError, match=r"squeeze: dim=1 .*shape \(\)"):
        s.squeeze(1)
    assert s.flatten().shape == tuple(ts.flatten().shape) == (1,)
    assert s.unsqueeze(-1).shape == (1,)
