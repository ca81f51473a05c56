"""Layers against PyTorch: a torch module's state_dict loads into ours with strict=True and
gives the same outputs, final states, input and parameter gradients (float64)."""

import numpy as np
import pytest
from _parity import assert_close, flatten_outputs, leaf, state_of, weighted_sum
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.nn import functional as TF

torch = pytest.importorskip("torch")


def _compare_modules(ours, theirs, inputs, call=lambda m, *xs: m(*xs), grad_inputs=True):
    """Load theirs into ours, run both on ``inputs`` and compare every output and gradient."""
    ours.load_state_dict(state_of(theirs), strict=True)
    rng = np.random.default_rng(1)
    t_in = [torch.tensor(x, requires_grad=grad_inputs and x.dtype.kind == "f")
            if isinstance(x, np.ndarray) else x for x in inputs]
    o_in = [leaf(x, grad_inputs and x.dtype.kind == "f") if isinstance(x, np.ndarray) else x
            for x in inputs]
    t_out = flatten_outputs(call(theirs, *t_in))
    o_out = flatten_outputs(call(ours, *o_in))
    assert len(t_out) == len(o_out)
    upstream = [rng.standard_normal(tuple(t.shape)) for t in t_out]
    for o, t in zip(o_out, t_out):
        assert o.shape == tuple(t.shape)
        assert_close(o, t)
    weighted_sum(t_out, upstream, torch.tensor).backward()
    weighted_sum(o_out, upstream, lambda g: tg.Tensor(g, dtype=np.float64)).backward()
    for (name, p), (t_name, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == t_name
        if tp.grad is None:
            assert p.grad is None or not np.any(p.grad.data), name
        else:
            assert_close(p.grad, tp.grad)
    for o, t in zip(o_in, t_in):
        if isinstance(o, tg.Tensor) and o.requires_grad:
            assert_close(o.grad, t.grad)


# ---- recurrent layers ---------------------------------------------------------------------
RNN_CONFIGS = st.fixed_dictionaries({
    "kind": st.sampled_from(["RNN", "RNN-relu", "LSTM", "GRU"]),
    "num_layers": st.integers(1, 3),
    "bias": st.booleans(),
    "batch_first": st.booleans(),
    "bidirectional": st.booleans(),
    "initial": st.booleans(),
    "unbatched": st.booleans(),
    "length": st.integers(1, 4),
    "batch": st.integers(1, 3),
    "proj": st.booleans(),
})


def _recurrent(kind, proj, **kw):
    name, _, relu = kind.partition("-")
    extra = {"nonlinearity": "relu"} if relu else {}
    if name == "LSTM" and proj:
        extra["proj_size"] = 2
    theirs = getattr(torch.nn, name)(3, 4, **kw, **extra).double()
    ours = getattr(nn, name)(3, 4, **kw, **extra, dtype=np.float64)
    return theirs, ours, extra.get("proj_size", 0)


@given(config=RNN_CONFIGS)
def test_recurrent_layers_match_torch(config):
    kw = {k: config[k] for k in ("num_layers", "bias", "batch_first", "bidirectional")}
    theirs, ours, proj = _recurrent(config["kind"], config["proj"], **kw)
    rng = np.random.default_rng(0)
    length, batch = config["length"], config["batch"]
    shape = (length, 3) if config["unbatched"] else (
        (batch, length, 3) if config["batch_first"] else (length, batch, 3))
    inputs = [rng.standard_normal(shape)]
    rows = config["num_layers"] * (2 if config["bidirectional"] else 1)
    state = (rows,) if config["unbatched"] else (rows, batch)
    if config["initial"]:
        inputs.append(rng.standard_normal(state + (proj or 4,)))
        if config["kind"] == "LSTM":
            inputs.append(rng.standard_normal(state + (4,)))

    def call(m, x, *hx):
        if not hx:
            return m(x)
        return m(x, tuple(hx) if len(hx) == 2 else hx[0])

    _compare_modules(ours, theirs, inputs, call)


@pytest.mark.parametrize("kind", ["RNNCell", "RNNCell-relu", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("initial", [True, False])
def test_cells_match_torch(kind, bias, batched, initial):
    name, _, relu = kind.partition("-")
    extra = {"nonlinearity": "relu"} if relu else {}
    theirs = getattr(torch.nn, name)(3, 4, bias=bias, **extra).double()
    ours = getattr(nn, name)(3, 4, bias=bias, **extra, dtype=np.float64)
    rng = np.random.default_rng(2)
    lead = (5,) if batched else ()
    inputs = [rng.standard_normal(lead + (3,))]
    if initial:
        inputs += [rng.standard_normal(lead + (4,)) for _ in range(2 if name == "LSTMCell"
                                                                  else 1)]

    def call(m, x, *hx):
        return m(x, (tuple(hx) if len(hx) == 2 else hx[0]) if hx else None)

    _compare_modules(ours, theirs, inputs, call)


def test_recurrent_parameter_names_shapes_and_init_follow_torch():
    theirs = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    ours = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    assert {k: tuple(v.shape) for k, v in theirs.state_dict().items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
    bound = 1 / np.sqrt(5)
    values = np.concatenate([p.data.ravel() for p in nn.GRU(3, 5, num_layers=2).parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 3


def test_recurrent_dropout_acts_between_layers_in_training_only():
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5, generator=tg.Generator(0))
    x = tg.randn(5, 2, 3)
    train_out, _ = gru(x)
    gru.eval()
    eval_out, _ = gru(x)
    assert not np.allclose(train_out.data, eval_out.data)
    single = nn.GRU(3, 4, dropout=0.5)  # one layer: nothing between layers to drop
    np.testing.assert_array_equal(single(x)[0].data, single.eval()(x)[0].data)


def test_recurrent_layers_reject_bad_arguments_and_states():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="h_0"):
        nn.GRU(3, 4)(tg.randn(5, 2, 3), tg.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="input of shape"):
        nn.LSTM(3, 4)(tg.randn(5, 2, 2))


# ---- attention ----------------------------------------------------------------------------
MHA_CONFIGS = st.fixed_dictionaries({
    "batch_first": st.booleans(),
    "bias": st.booleans(),
    "kv_dims": st.booleans(),
    "need_weights": st.booleans(),
    "average": st.booleans(),
    "mask": st.sampled_from([None, "bool", "float", "bool3d", "causal"]),
    "padding": st.sampled_from([None, "bool", "float"]),
    "unbatched": st.booleans(),
})


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@given(config=MHA_CONFIGS)
def test_multihead_attention_matches_torch(config):
    e, heads, length, source, batch = 8, 2, 3, 4, 2
    kdim, vdim = (5, 6) if config["kv_dims"] else (e, e)
    theirs = torch.nn.MultiheadAttention(e, heads, bias=config["bias"], kdim=kdim, vdim=vdim,
                                         batch_first=config["batch_first"]).double()
    ours = nn.MultiheadAttention(e, heads, bias=config["bias"], kdim=kdim, vdim=vdim,
                                 batch_first=config["batch_first"], dtype=np.float64)
    rng = np.random.default_rng(3)
    unbatched = config["unbatched"]

    def seq(steps, width):
        if unbatched:
            return rng.standard_normal((steps, width))
        shape = (batch, steps, width) if config["batch_first"] else (steps, batch, width)
        return rng.standard_normal(shape)

    n = 1 if unbatched else batch
    kwargs = {}
    mask = config["mask"]
    if mask in ("bool", "causal"):
        kwargs["attn_mask"] = np.triu(np.ones((length, source), bool), 1)  # keep column 0
    elif mask == "float":
        kwargs["attn_mask"] = rng.standard_normal((length, source))
    elif mask == "bool3d":
        m = rng.random((n * heads, length, source)) < 0.3
        m[..., 0] = False
        kwargs["attn_mask"] = m
    if mask == "causal":
        kwargs["is_causal"] = True
    if config["padding"] is not None:
        pad = np.zeros((n, source), bool)
        pad[:, -1] = True
        pad = pad[0] if unbatched else pad
        kwargs["key_padding_mask"] = pad if config["padding"] == "bool" else \
            np.where(pad, -2.0, 0.5)
    kwargs.update(need_weights=config["need_weights"],
                  average_attn_weights=config["average"])

    def call(m, q, k, v):
        convert = torch.tensor if isinstance(q, torch.Tensor) else np.asarray
        args = {key: convert(val) if isinstance(val, np.ndarray) else val
                for key, val in kwargs.items()}
        return m(q, k, v, **args)

    _compare_modules(ours, theirs, [seq(length, e), seq(source, kdim), seq(source, vdim)], call)


@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
@pytest.mark.parametrize("scale", [None, 0.3])
@pytest.mark.parametrize("gqa", [False, True])
def test_scaled_dot_product_attention_matches_torch(mask, scale, gqa):
    rng = np.random.default_rng(4)
    q = rng.standard_normal((2, 4, 3, 5))
    kv_heads = 2 if gqa else 4
    k, v = rng.standard_normal((2, kv_heads, 6, 5)), rng.standard_normal((2, kv_heads, 6, 7))
    kwargs = {"scale": scale, "enable_gqa": gqa}
    if mask == "bool":
        m = rng.random((3, 6)) < 0.5
        m[:, 0] = True
        kwargs["attn_mask"] = m
    elif mask == "float":
        kwargs["attn_mask"] = rng.standard_normal((2, 1, 3, 6))
    elif mask == "causal":
        kwargs["is_causal"] = True
    t_in = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    o_in = [leaf(a) for a in (q, k, v)]
    t_kw = {key: torch.tensor(val) if isinstance(val, np.ndarray) else val
            for key, val in kwargs.items()}
    t_out = torch.nn.functional.scaled_dot_product_attention(*t_in, **t_kw)
    o_out = TF.scaled_dot_product_attention(*o_in, **kwargs)
    assert_close(o_out, t_out)
    g = rng.standard_normal(o_out.shape)
    (t_out * torch.tensor(g)).sum().backward()
    (o_out * tg.Tensor(g, dtype=np.float64)).sum().backward()
    for o, t in zip(o_in, t_in):
        assert_close(o.grad, t.grad)


def test_scaled_dot_product_attention_dropout_follows_its_generator():
    q = tg.randn(2, 3, 4)
    first = TF.scaled_dot_product_attention(q, q, q, dropout_p=0.5, generator=tg.Generator(7))
    again = TF.scaled_dot_product_attention(q, q, q, dropout_p=0.5, generator=tg.Generator(7))
    plain = TF.scaled_dot_product_attention(q, q, q)
    np.testing.assert_array_equal(first.data, again.data)
    assert not np.allclose(first.data, plain.data)
    with pytest.raises(ValueError, match="not both"):
        TF.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool),
                                        is_causal=True)


# ---- normalisation ------------------------------------------------------------------------
NORMS = {
    "LayerNorm": (lambda m: m.LayerNorm((3, 4)), (2, 5, 3, 4)),
    "LayerNorm-nobias": (lambda m: m.LayerNorm(4, bias=False), (2, 4)),
    "LayerNorm-noaffine": (lambda m: m.LayerNorm(4, elementwise_affine=False), (3, 4)),
    "GroupNorm": (lambda m: m.GroupNorm(2, 6), (3, 6, 4)),
    "GroupNorm-noaffine": (lambda m: m.GroupNorm(3, 6, affine=False), (3, 6, 2, 2)),
    "InstanceNorm2d": (lambda m: m.InstanceNorm2d(3), (2, 3, 4, 5)),
    "InstanceNorm2d-unbatched": (lambda m: m.InstanceNorm2d(3), (3, 4, 5)),
    "InstanceNorm2d-affine-tracked": (
        lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5)),
    "InstanceNorm1d": (lambda m: m.InstanceNorm1d(3, affine=True), (2, 3, 6)),
    "BatchNorm3d": (lambda m: m.BatchNorm3d(3), (4, 3, 2, 3, 2)),
    "BatchNorm3d-cumulative": (lambda m: m.BatchNorm3d(3, momentum=None), (4, 3, 2, 2, 2)),
    "BatchNorm1d": (lambda m: m.BatchNorm1d(3), (4, 3)),
}


@pytest.mark.parametrize("name", sorted(NORMS))
@pytest.mark.parametrize("training", [True, False])
def test_normalisation_layers_match_torch(name, training):
    build, shape = NORMS[name]
    theirs = build(torch.nn).double()
    for p in theirs.parameters():  # not the default ones and zeros
        torch.nn.init.uniform_(p, 0.5, 1.5)
    rng = np.random.default_rng(5)
    for buffer in ("running_mean", "running_var"):
        if getattr(theirs, buffer, None) is not None:
            getattr(theirs, buffer).copy_(torch.tensor(rng.uniform(0.5, 1.5, 3)))
    ours = build_float64(name)
    ours.train(training)
    theirs.train(training)
    x = rng.standard_normal(shape) * 3 + 1
    for _ in range(2):  # two steps: running statistics and num_batches_tracked advance
        _compare_modules(ours, theirs, [x])
        ours.load_state_dict(state_of(theirs))
    for key, value in state_of(theirs).items():
        assert_close(ours.state_dict()[key], value)


def build_float64(name):
    """The module of NORMS[name] in float64 (every layer takes ``dtype=``)."""
    build = NORMS[name][0]

    class Float64:
        def __getattr__(self, cls):
            return lambda *a, **k: getattr(nn, cls)(*a, **k, dtype=np.float64)

    return build(Float64())


def test_functional_norms_match_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    T = torch.nn.functional
    t = [torch.tensor(a) for a in (x, w, b)]
    o = [leaf(a, False) for a in (x, w, b)]
    assert_close(TF.group_norm(o[0], 2, o[1], o[2], eps=1e-3),
                 T.group_norm(t[0], 2, t[1], t[2], eps=1e-3))
    assert_close(TF.layer_norm(o[0], (3,)), T.layer_norm(t[0], (3,)))
    assert_close(TF.instance_norm(o[0], weight=o[1], bias=o[2]),
                 T.instance_norm(t[0], weight=t[1], bias=t[2]))


# ---- embedding, containers, reshaping -----------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_embedding_matches_torch(padding_idx, max_norm):
    theirs = torch.nn.Embedding(6, 3, padding_idx=padding_idx, max_norm=max_norm).double()
    ours = nn.Embedding(6, 3, padding_idx=padding_idx, max_norm=max_norm, dtype=np.float64)
    if padding_idx is not None:
        assert not np.any(ours.weight.data[padding_idx])
    with torch.no_grad():
        theirs.weight.mul_(2)  # rows longer than max_norm, padding row nonzero after loading
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    _compare_modules(ours, theirs, [idx])
    assert_close(ours.weight, theirs.weight)  # max_norm renormalised the same rows in place


def test_embedding_rejects_bad_indices_and_loads_pretrained():
    with pytest.raises(IndexError, match="out of range"):
        nn.Embedding(4, 2)(np.array([4]))
    with pytest.raises(TypeError, match="integers"):
        nn.Embedding(4, 2)(np.array([1.0]))
    emb = nn.Embedding.from_pretrained(np.eye(3))
    assert not emb.weight.requires_grad and emb(np.array([1])).tolist() == [[0.0, 1.0, 0.0]]


def test_unflatten_and_identity():
    assert nn.Unflatten(-1, (2, 3))(tg.zeros(4, 6)).shape == (4, 2, 3)
    assert nn.Unflatten(1, (2, -1))(tg.zeros(4, 6, 5)).shape == (4, 2, 3, 5)
    x = tg.randn(2)
    assert nn.Identity()(x) is x
    with pytest.raises(ValueError):
        nn.Unflatten(1, (4, 4))(tg.zeros(4, 6))


def test_containers_name_their_entries_as_torch():
    ours = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.Sequential(nn.Linear(3, 1))})
    theirs = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 3),
                                  "b": torch.nn.Sequential(torch.nn.Linear(3, 1))})
    ours.load_state_dict(state_of(theirs), strict=True)
    assert list(ours) == ["a", "b"] and "a" in ours and len(ours) == 2
    del ours["a"]
    assert [n for n, _ in ours.named_parameters()] == ["b.0.weight", "b.0.bias"]

    plist = nn.ParameterList([tg.zeros(2), nn.Parameter(tg.ones(3))])
    plist.append(tg.zeros(1))
    tlist = torch.nn.ParameterList([torch.zeros(2), torch.ones(3), torch.zeros(1)])
    assert list(plist.state_dict()) == list(tlist.state_dict()) == ["0", "1", "2"]
    assert all(isinstance(p, nn.Parameter) for p in plist) and plist[-1].shape == (1,)

    pdict = nn.ParameterDict({"w": tg.ones(2)})
    pdict["b"] = tg.zeros(2)
    assert list(pdict) == ["w", "b"] and sorted(pdict.state_dict()) == ["b", "w"]
    assert pdict.pop("w").shape == (2,) and list(pdict.state_dict()) == ["b"]
    with pytest.raises(KeyError):
        pdict["x.y"] = tg.zeros(1)


EMPTY = {
    "LSTM batch 0": (lambda: nn.LSTM(3, 4)(tg.zeros(5, 0, 3))[0], (5, 0, 4)),
    "LayerNorm batch 0": (lambda: nn.LayerNorm(3)(tg.zeros(0, 3)), (0, 3)),
    "GroupNorm batch 0": (lambda: nn.GroupNorm(2, 4)(tg.zeros(0, 4, 3)), (0, 4, 3)),
    "Embedding no index": (lambda: nn.Embedding(3, 2)(np.zeros((0,), int)), (0, 2)),
    "attention no query": (lambda: TF.scaled_dot_product_attention(
        tg.zeros(2, 0, 4), tg.zeros(2, 3, 4), tg.zeros(2, 3, 4)), (2, 0, 4)),
}


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_layers_take_empty_batches_as_torch(case):
    make, shape = EMPTY[case]
    assert make().shape == shape


def test_recurrent_layers_refuse_an_empty_sequence_as_torch():
    with pytest.raises(ValueError, match="sequence length larger than 0"):
        nn.RNN(3, 4)(tg.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="sequence length larger than 0"):
        nn.GRU(3, 4, batch_first=True)(tg.zeros(2, 0, 3))


def test_batch_norm_stays_importable_from_layers():
    from tinygrad_nd.nn import layers, normalization

    assert layers.BatchNorm1d is normalization.BatchNorm1d is nn.BatchNorm1d
    assert layers.BatchNorm2d is nn.BatchNorm2d
