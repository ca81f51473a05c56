"""The bridge to PyTorch, both ways: `to_torch` and `from_torch` build the
equivalent model with the same weights, dtypes, frozen parameters and train/eval modes;
`state_dict_to_torch` and `state_dict_from_torch` convert state dicts in memory.

Every layer of `tinygrad_nd.nn` that has a `torch.nn` twin uses PyTorch's names,
shapes and state-dict keys (BatchNorm's `num_batches_tracked` included), so the converted
model is loaded with `load_state_dict(strict=True)` on the other side, which is also what
proves the two trees match. A layer without a twin (a user-defined `Module`, `Residual`, a
PyTorch layer this package lacks, or a setting it lacks such as `padding_mode="reflect"`)
raises a TypeError naming the layer, its path in the model and what is supported.

PyTorch is an optional dependency: `pip install torch==2.13.0`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import nn
from .tensor import Tensor

TORCH_PIN = "torch==2.13.0"


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"tinygrad_nd.interop needs PyTorch: pip install {TORCH_PIN}") from e
    return torch


@dataclass(frozen=True)
class _Twin:
    """A layer that exists under one class name in `tinygrad_nd.nn` and `torch.nn`.

    `args` are constructor keywords read back from attributes of the same name on either
    side; `typed` layers take `dtype=`; `fixed` are PyTorch settings this package does
    not have, accepted only at the value that gives the same function.
    """

    name: str
    args: tuple[str, ...] = ()
    typed: bool = False
    fixed: Mapping[str, Any] = field(default_factory=dict)
    tensors: tuple[str, ...] = ()  # constructor arguments that are tensors (loss weights)


_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
         "groups", "bias")
_BATCHNORM = ("num_features", "eps", "momentum", "affine", "track_running_stats")
_MAXPOOL = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_AVGPOOL = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
_RNN = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
        "bidirectional")
_ZEROS_PADDING = {"padding_mode": "zeros"}
_INPLACE = ("inplace",)

_TWINS = [
    _Twin("Linear", ("in_features", "out_features", "bias"), True),
    *(_Twin(f"Conv{d}d", _CONV, True, _ZEROS_PADDING) for d in (1, 2, 3)),
    *(_Twin(f"ConvTranspose{d}d", _CONV + ("output_padding",), True, _ZEROS_PADDING)
      for d in (1, 2, 3)),
    *(_Twin(f"BatchNorm{d}d", _BATCHNORM, True) for d in (1, 2, 3)),
    *(_Twin(f"InstanceNorm{d}d", _BATCHNORM, True) for d in (1, 2)),
    _Twin("LayerNorm", ("normalized_shape", "eps", "elementwise_affine", "bias"), True),
    _Twin("GroupNorm", ("num_groups", "num_channels", "eps", "affine"), True),
    _Twin("Embedding", ("num_embeddings", "embedding_dim", "padding_idx", "max_norm",
                        "norm_type"), True, {"scale_grad_by_freq": False, "sparse": False}),
    _Twin("RNN", _RNN + ("nonlinearity",), True),
    _Twin("LSTM", _RNN + ("proj_size",), True),
    _Twin("GRU", _RNN, True),
    _Twin("RNNCell", ("input_size", "hidden_size", "bias", "nonlinearity"), True),
    _Twin("LSTMCell", ("input_size", "hidden_size", "bias"), True),
    _Twin("GRUCell", ("input_size", "hidden_size", "bias"), True),
    _Twin("MultiheadAttention", ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv",
                                 "add_zero_attn", "kdim", "vdim", "batch_first"), True),
    # parameterless layers
    *(_Twin(f"MaxPool{d}d", _MAXPOOL) for d in (1, 2, 3)),
    _Twin("AvgPool1d", _AVGPOOL),
    *(_Twin(f"AvgPool{d}d", _AVGPOOL, fixed={"divisor_override": None}) for d in (2, 3)),
    _Twin("AdaptiveAvgPool2d", ("output_size",)),
    _Twin("Upsample", ("size", "scale_factor", "mode", "align_corners",
                       "recompute_scale_factor")),
    _Twin("Dropout", ("p",)),
    _Twin("Flatten", ("start_dim", "end_dim")),
    _Twin("Unflatten", ("dim", "unflattened_size")),
    _Twin("Identity"),
    *(_Twin(name) for name in ("Sigmoid", "Tanh", "ReLU", "Softsign", "LogSigmoid")),
    *(_Twin(name, _INPLACE) for name in ("ReLU6", "Hardsigmoid", "Hardswish", "SiLU", "Mish",
                                         "SELU")),
    _Twin("GELU", ("approximate",)),
    _Twin("LeakyReLU", ("negative_slope", "inplace")),
    _Twin("ELU", ("alpha", "inplace")),
    _Twin("CELU", ("alpha", "inplace")),
    # PyTorch's softplus is x itself past beta * x > threshold: within 1e-8 at the default 20
    _Twin("Softplus", ("beta",), fixed={"threshold": 20.0}),
    *(_Twin(name, ("dim",)) for name in ("Softmax", "LogSoftmax", "Softmin", "GLU")),
    _Twin("Hardtanh", ("min_val", "max_val", "inplace")),
    _Twin("Threshold", ("threshold", "value", "inplace")),
    # losses
    *(_Twin(name, ("reduction",)) for name in ("MSELoss", "L1Loss")),
    _Twin("SmoothL1Loss", ("reduction", "beta")),
    _Twin("HuberLoss", ("reduction", "delta")),
    _Twin("KLDivLoss", ("reduction", "log_target")),
    _Twin("MarginRankingLoss", ("margin", "reduction")),
    _Twin("CosineSimilarity", ("dim", "eps")),
    # losses with weights: buffers in the state dict on both sides
    _Twin("BCELoss", ("weight", "reduction"), tensors=("weight",)),
    _Twin("BCEWithLogitsLoss", ("weight", "reduction", "pos_weight"),
          tensors=("weight", "pos_weight")),
    _Twin("NLLLoss", ("weight", "ignore_index", "reduction"), tensors=("weight",)),
    _Twin("CrossEntropyLoss", ("weight", "ignore_index", "reduction", "label_smoothing"),
          tensors=("weight",)),
]
_BY_NAME = {twin.name: twin for twin in _TWINS}
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict")
SUPPORTED: tuple[str, ...] = tuple(sorted(list(_BY_NAME) + list(_CONTAINERS)))
"""Class names that `to_torch` and `from_torch` convert (the same in both)."""


# ---- reading a layer's settings ------------------------------------------------------------
_MISSING = object()


def _has_bias(module: Any) -> bool:
    bias = getattr(module, "bias", _MISSING)
    if isinstance(bias, bool):  # RNNs and cells keep the flag itself
        return bias
    if bias is _MISSING:  # MultiheadAttention
        return getattr(module, "in_proj_bias", None) is not None
    return bias is not None


def _conv_padding(module: Any) -> Any:
    """PyTorch's `padding="valid"`/`"same"` as the numbers it stands for."""
    padding = module.padding
    if padding == "valid":
        return 0
    if padding != "same":
        return padding
    totals = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
    if any(t % 2 for t in totals):
        raise _NoTwin("padding='same' with an even kernel (asymmetric padding)")
    return tuple(t // 2 for t in totals)


_READERS: dict[str, Callable[[Any], Any]] = {
    "bias": _has_bias,
    "add_bias_kv": lambda m: getattr(m, "bias_k", None) is not None,
    "add_zero_attn": lambda m: bool(getattr(m, "add_zero_attn", False)),
    "inplace": lambda m: bool(getattr(m, "inplace", False)),
    "normalized_shape": lambda m: tuple(m.normalized_shape),
}


def _settings(module: Any, twin: _Twin, convert: Callable[[Any], Any]) -> dict[str, Any]:
    reads = dict(_READERS)
    if twin.name.startswith("Conv"):
        reads["padding"] = _conv_padding
    kwargs = {arg: reads.get(arg, lambda m, a=arg: getattr(m, a))(module) for arg in twin.args}
    for arg in twin.tensors:
        if kwargs[arg] is not None:
            kwargs[arg] = convert(kwargs[arg])
    return kwargs


class _NoTwin(Exception):
    """A setting of a supported layer that the other library cannot express."""


# ---- dtypes --------------------------------------------------------------------------------
def _torch_dtype(dtype: np.dtype) -> Any:
    return _torch().from_numpy(np.empty(0, dtype=dtype)).dtype


def _numpy_dtype(tensor: Any, key: str) -> np.dtype:
    torch = _torch()
    try:
        return torch.empty(0, dtype=tensor.dtype).numpy().dtype
    except TypeError as e:
        raise TypeError(f"from_torch: {key!r} has dtype {tensor.dtype}, which numpy (and so "
                        "tinygrad_nd) cannot hold; convert the model first, e.g. "
                        "model.float()") from e


# ---- state dicts in memory -----------------------------------------------------------------
def state_dict_to_torch(state: Any) -> OrderedDict[str, Any]:
    """A tinygrad_nd state dict (or a module's) as `torch.Tensor` copies, for
    `torch_model.load_state_dict(..., strict=True)`.

    Parameters
    ----------
    state : Module or mapping of str -> Tensor or array
        A tinygrad_nd module (its `state_dict()` is taken) or a state dict: parameter and
        buffer names -> `Tensor`s or array-likes.

    Returns
    -------
    OrderedDict of str -> torch.Tensor
        The same keys in the same order, each value a new CPU tensor of the same shape and
        dtype (a copy: changing one side leaves the other as it was).

    Examples
    --------
    >>> import torch
    >>> from tinygrad_nd import nn, interop
    >>> ours = nn.Linear(3, 2)
    >>> theirs = torch.nn.Linear(3, 2)
    >>> theirs.load_state_dict(interop.state_dict_to_torch(ours), strict=True)
    <All keys matched successfully>
    """
    torch = _torch()
    if isinstance(state, nn.Module):
        state = state.state_dict()
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in state.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        out[key] = torch.from_numpy(np.array(array, copy=True))
    return out


def state_dict_from_torch(state: Any) -> dict[str, np.ndarray]:
    """A PyTorch state dict (or a `torch.nn.Module`'s) as numpy copies, for
    `model.load_state_dict(..., strict=True)`.

    Parameters
    ----------
    state : torch.nn.Module or mapping of str -> torch.Tensor
        A PyTorch module (its `state_dict()` is taken) or a state dict; tensors on any
        device (copied to the CPU).

    Returns
    -------
    dict of str -> numpy.ndarray
        The same keys, each value a numpy copy of the same shape and dtype.

    Raises
    ------
    TypeError
        If a tensor's dtype has no numpy equivalent (bfloat16, say), naming its key.

    Examples
    --------
    >>> import torch
    >>> from tinygrad_nd import nn, interop
    >>> ours = nn.BatchNorm1d(4)
    >>> ours.load_state_dict(interop.state_dict_from_torch(torch.nn.BatchNorm1d(4)))
    >>> sorted(ours.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """
    if hasattr(state, "state_dict") and not isinstance(state, Mapping):
        state = state.state_dict()
    out = {}
    for key, value in state.items():
        _numpy_dtype(value, key)
        out[key] = value.detach().cpu().numpy().copy()
    return out


# ---- building the other side ---------------------------------------------------------------
def _unsupported(direction: str, path: str, kind: str, why: str = "") -> TypeError:
    where = f"layer {path!r}" if path else "the model itself"
    because = f" ({why})" if why else ""
    return TypeError(f"{direction}: {where} is a {kind}{because}, which has no equivalent in "
                     f"{'PyTorch' if direction == 'to_torch' else 'tinygrad_nd'}. Supported "
                     f"layers: {', '.join(SUPPORTED)}. Convert the supported parts (e.g. each "
                     "child) or rewrite the layer with them.")


def _twin_of(module: Any, library: Any, direction: str, path: str) -> _Twin:
    kind = type(module).__name__
    twin = _BY_NAME.get(kind)
    # The exact class only: a subclass may have its own forward, which no table can know.
    if twin is None or type(module) is not getattr(library, kind, None):
        own = "tinygrad_nd.nn" if direction == "to_torch" else "torch.nn"
        why = f"a subclass of {own}.{kind}" if twin is not None else ""
        raise _unsupported(direction, path, kind, why)
    return twin


def _build(module: Any, source: Any, target: Any, direction: str, path: str,
           dtype_of: Callable[[Any], Any], convert: Callable[[Any], Any]) -> Any:
    """The twin of `module` (and of its children) in `target`; `convert` copies one
    tensor of `source` into `target`'s kind (weights are loaded afterwards)."""
    kind = type(module).__name__
    if kind in _CONTAINERS and type(module) is getattr(source, kind):
        children = [(name, _build(child, source, target, direction,
                                  f"{path}.{name}" if path else name, dtype_of, convert))
                    for name, child in module.named_children()]
        if kind == "Sequential":
            built = target.Sequential()
            for name, child in children:
                setattr(built, name, child)  # keeps the names, also non-numeric ones
            return built
        if kind == "ModuleList":
            return target.ModuleList([child for _, child in children])
        if kind == "ModuleDict":
            return target.ModuleDict(OrderedDict(children))
        params = [(name, target.Parameter(convert(p))) for name, p in module.named_parameters()]
        if kind == "ParameterList":
            return target.ParameterList([p for _, p in params])
        return target.ParameterDict(OrderedDict(params))
    twin = _twin_of(module, source, direction, path)
    if direction == "from_torch":
        for setting, wanted in twin.fixed.items():
            if getattr(module, setting, wanted) != wanted:
                raise _unsupported(direction, path, kind, f"{setting}="
                                   f"{getattr(module, setting)!r}; only {wanted!r} has a twin")
    try:
        kwargs = _settings(module, twin, convert)
    except _NoTwin as e:
        raise _unsupported(direction, path, kind, str(e)) from None
    if twin.typed:
        dtype = dtype_of(module)
        if dtype is not None:
            kwargs["dtype"] = dtype
    try:
        return getattr(target, kind)(**kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{direction}: layer {path or '(the model)'!r} ({kind}): {e}") from e


def _copy_modes_and_flags(source: Any, built: Any) -> None:
    """train/eval mode per layer and `requires_grad` per parameter, as in `source`."""
    modes = {name: m.training for name, m in source.named_modules()}
    for name, m in built.named_modules():
        m.training = modes.get(name, m.training)
    flags = {name: p.requires_grad for name, p in source.named_parameters()}
    for name, p in built.named_parameters():
        p.requires_grad = flags[name]


def _check_dtypes(direction: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> None:
    """PyTorch's load_state_dict casts silently; a mixed-dtype layer must not lose digits."""
    for key, value in ours.items():
        want, got = value.dtype, _numpy_dtype(theirs[key], key)
        if want != got:
            raise TypeError(f"{direction}: {key!r} is {want} but its layer's other tensors "
                            f"are {got}; give every tensor of a layer one dtype")


def to_torch(module: nn.Module) -> Any:
    """The equivalent `torch.nn` model, with copies of the weights and buffers (same
    dtypes), the same train/eval mode per layer and the same frozen parameters.

    Parameters
    ----------
    module : tinygrad_nd.nn.Module
        Built from the layers in `SUPPORTED` (nested in `Sequential`, `ModuleList`,
        `ModuleDict`); any other layer raises a TypeError naming it and its path.

    Examples
    --------
    >>> import numpy as np, torch
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn, interop
    >>> ours = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2, dtype=np.float64))
    >>> theirs = interop.to_torch(ours)
    >>> theirs[2].weight.dtype, theirs
    (torch.float64, Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=2, bias=True)
    ))
    """
    torch = _torch()
    if not isinstance(module, nn.Module):
        raise TypeError(f"to_torch: expected a tinygrad_nd.nn.Module, got "
                        f"{type(module).__name__}")

    def dtype_of(m: nn.Module) -> Any:
        own = list(m._parameters.items()) + list(m._buffers.items())
        floats = [v.dtype for _, v in own if v is not None and v.dtype.kind == "f"]
        return _torch_dtype(floats[0]) if floats else None

    def convert(t: Tensor) -> Any:
        return torch.from_numpy(t.data.copy())

    built = _build(module, nn, torch.nn, "to_torch", "", dtype_of, convert)
    state = module.state_dict()
    _check_dtypes("to_torch", state, built.state_dict())
    built.load_state_dict(state_dict_to_torch(state), strict=True)
    _copy_modes_and_flags(module, built)
    return built


def from_torch(torch_module: Any) -> nn.Module:
    """The equivalent tinygrad_nd model of a `torch.nn` one: copies of the weights and
    buffers (same dtypes), the same train/eval mode per layer and frozen parameters.

    Parameters
    ----------
    torch_module : torch.nn.Module
        Built from the layers in `SUPPORTED`; any other layer, or a setting this package
        lacks (`padding_mode="reflect"`, `Embedding(sparse=True)`...), raises a TypeError
        naming it and its path.

    Examples
    --------
    >>> import torch
    >>> from tinygrad_nd import interop
    >>> theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding="same"),
    ...                              torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    >>> interop.from_torch(theirs)[0]
    Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    torch = _torch()
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got "
                        f"{type(torch_module).__name__}")

    def dtype_of(m: Any) -> Any:
        own = [(k, v) for k, v in list(m.named_parameters(recurse=False))
               + list(m.named_buffers(recurse=False)) if v.is_floating_point()]
        return _numpy_dtype(own[0][1], own[0][0]) if own else None

    def convert(t: Any) -> Tensor:
        array = t.detach().cpu().numpy().copy()
        return Tensor(array, dtype=array.dtype)

    built = _build(torch_module, torch.nn, nn, "from_torch", "", dtype_of, convert)
    state = state_dict_from_torch(torch_module)
    built.load_state_dict(state, strict=True)  # checks names, shapes and dtypes
    _copy_modes_and_flags(torch_module, built)
    return built
