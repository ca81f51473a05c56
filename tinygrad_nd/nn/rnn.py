"""Recurrent layers with PyTorch's parameters, names, gate order and initialisation:
RNN (tanh/relu), LSTM, GRU and their single-step cells. A PyTorch state_dict loads into
them with `strict=True` and gives the same outputs and gradients.

Each step is a composite of registered ops (matmul, sigmoid, tanh, getitem ...). The input
projection of a whole sequence is one matmul; only the recurrent part loops over time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes, factories
from ..functional import _int_at_least, cat, stack
from ..tensor import Tensor
from . import functional as F
from .layers import _check_bool
from .module import Module, Parameter

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _gate(x: Tensor, k: int, width: int) -> Tensor:
    """The k-th block of `width` features on the last axis (PyTorch's stacked gates)."""
    return x[..., k * width:(k + 1) * width]


def _affine(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    out = x @ weight.T
    return out if bias is None else out + bias


def _step(mode: str, xp: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor,
          b_hh: Tensor | None, w_hr: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """One time step from the input's projection `xp = x W_ih^T + b_ih` and the state.

    LSTM gates are (i, f, g, o) and GRU gates (r, z, n) with PyTorch's
    `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`.
    """
    hp = _affine(h, w_hh, b_hh)
    if mode == "RNN_TANH":
        return (xp + hp).tanh(), None
    if mode == "RNN_RELU":
        return (xp + hp).relu(), None
    if mode == "LSTM":
        width = w_hh.shape[0] // 4
        gates = xp + hp
        i, f, g, o = (_gate(gates, k, width) for k in range(4))
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h if w_hr is None else h @ w_hr.T), c
    width = w_hh.shape[0] // 3
    r = (_gate(xp, 0, width) + _gate(hp, 0, width)).sigmoid()
    z = (_gate(xp, 1, width) + _gate(hp, 1, width)).sigmoid()
    n = (_gate(xp, 2, width) + r * _gate(hp, 2, width)).tanh()
    return n + z * (h - n), None  # (1 - z) n + z h


def _uniform_params(module: Module, shapes: dict[str, tuple[int, ...]], hidden_size: int,
                    generator: factories.Generator | None, dtype: np.dtype) -> None:
    """Register parameters of `shapes` drawn from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size else 0.0
    rng = factories.rng_of(generator)
    for name, shape in shapes.items():
        setattr(module, name, Parameter(rng.uniform(-bound, bound, shape).astype(dtype)))


def _check_common(input_size: Any, hidden_size: Any, bias: Any, name: str) -> None:
    _int_at_least(input_size, "input_size", name, 0)
    _int_at_least(hidden_size, "hidden_size", name, 1)
    _check_bool(bias, "bias", name)


class RNNBase(Module):
    """Multi-layer, optionally bidirectional recurrence over (L, N, H_in) sequences
    ((N, L, H_in) with `batch_first`, (L, H_in) unbatched); see `RNN`,
    `LSTM`, `GRU`.

    Parameters
    ----------
    mode : {"RNN_TANH", "RNN_RELU", "LSTM", "GRU"}
        Which recurrence (set by the subclasses; it fixes the number of stacked gates).
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    num_layers : int, default 1
        Recurrences stacked on each other (layer l reads layer l-1's states).
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    batch_first : bool, default False
        Inputs and outputs as (N, L, features) instead of (L, N, features) (the states
        `h_0`, `h_n` stay (layers * directions, N, H)).
    dropout : float, default 0.0
        In training mode, dropout with this probability on the outputs of every layer
        but the last.
    bidirectional : bool, default False
        Also run each layer backwards in time; outputs are the two directions
        concatenated (2 H features).
    proj_size : int, default 0
        When positive (LSTM only, smaller than `hidden_size`), project each layer's `h`
        to this size with `weight_hr_l{k}` (no bias).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, and of the
        dropout masks (the default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0,
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        dtype = dtypes.check_float_dtype(dtype, name)
        _check_common(input_size, hidden_size, bias, name)
        _int_at_least(num_layers, "num_layers", name, 1)
        _check_bool(batch_first, "batch_first", name)
        _check_bool(bidirectional, "bidirectional", name)
        F.check_probability(dropout, name)
        _int_at_least(proj_size, "proj_size", name, 0)
        if proj_size and (mode != "LSTM" or proj_size >= hidden_size):
            raise ValueError(f"{name}: proj_size must be 0, or smaller than hidden_size for an "
                             f"LSTM, got {proj_size}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        self.generator = generator
        directions = 2 if bidirectional else 1
        gates = GATES[mode] * hidden_size
        out = proj_size or hidden_size
        shapes: dict[str, tuple[int, ...]] = {}
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                width = input_size if layer == 0 else out * directions
                shapes[f"weight_ih_l{layer}{suffix}"] = (gates, width)
                shapes[f"weight_hh_l{layer}{suffix}"] = (gates, out)
                if bias:
                    shapes[f"bias_ih_l{layer}{suffix}"] = (gates,)
                    shapes[f"bias_hh_l{layer}{suffix}"] = (gates,)
                if proj_size:
                    shapes[f"weight_hr_l{layer}{suffix}"] = (proj_size, hidden_size)
        _uniform_params(self, shapes, hidden_size, generator, dtype)

    def _weights(self, layer: int, suffix: str) -> tuple[Tensor, ...]:
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"bias_ih_l{layer}{suffix}"),
                get(f"weight_hh_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"),
                get(f"weight_hr_l{layer}{suffix}"))

    def _initial(self, hx: Tensor | None, batch: int, width: int, dtype: np.dtype,
                 unbatched: bool, what: str) -> Tensor:
        rows = self.num_layers * (2 if self.bidirectional else 1)
        shape = (rows, width) if unbatched else (rows, batch, width)
        if hx is None:
            return factories.zeros(*((rows, batch, width)), dtype=dtype)
        if hx.shape != shape:
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {shape}, got "
                             f"{hx.shape}")
        return hx.unsqueeze(1) if unbatched else hx

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None
             ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Every layer and direction over time-major `x` (L, N, H_in)."""
        directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True, self.generator)
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                w_ih, b_ih, w_hh, b_hh, w_hr = self._weights(layer, suffix)
                row = layer * directions + d
                h, c = h0[row], (None if c0 is None else c0[row])
                projected = _affine(x, w_ih, b_ih)  # every time step in one matmul
                steps = range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])
                seq = []
                for t in steps:
                    h, c = _step(self.mode, projected[t], h, c, w_hh, b_hh, w_hr)
                    seq.append(h)
                if d:
                    seq.reverse()
                outputs.append(stack(seq))
                hs.append(h)
                cs.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, axis=2)
        return x, stack(hs), (stack(cs) if c0 is not None else None)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        name = type(self).__name__
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (L, N, {self.input_size}) "
                             f"(or (N, L, ...) with batch_first, or (L, {self.input_size}) "
                             f"unbatched), got {input.shape}")
        unbatched = input.ndim == 2
        if input.shape[1 if self.batch_first and not unbatched else 0] == 0:
            raise ValueError(f"{name}: expected a sequence length larger than 0, got input of "
                             f"shape {input.shape}")
        x = input.unsqueeze(1) if unbatched else (
            input.transpose(0, 1) if self.batch_first else input)
        batch = x.shape[1]
        out_width = self.proj_size or self.hidden_size
        if self.mode == "LSTM":
            h_in, c_in = (None, None) if hx is None else hx
            h0 = self._initial(h_in, batch, out_width, x.dtype, unbatched, "h_0")
            c0 = self._initial(c_in, batch, self.hidden_size, x.dtype, unbatched, "c_0")
        else:
            h0 = self._initial(hx, batch, out_width, x.dtype, unbatched, "h_0")
            c0 = None
        out, h_n, c_n = self._run(x, h0, c0)
        if unbatched:
            out, h_n = out[:, 0], h_n[:, 0]
            c_n = None if c_n is None else c_n[:, 0]
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, (h_n if c_n is None else (h_n, c_n))

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}, bidirectional={self.bidirectional}")


class RNN(RNNBase):
    """Elman recurrence `h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)` (or relu).

    Returns `(output, h_n)`: the last layer's states at every step, and every layer's
    final state (num_layers * directions, N, H).

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    num_layers : int, default 1
        Recurrences stacked on each other (layer l reads layer l-1's states).
    nonlinearity : {"tanh", "relu"}, default "tanh"
        The activation of the new state.
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    batch_first : bool, default False
        Inputs and outputs as (N, L, features) instead of (L, N, features) (the states
        `h_0`, `h_n` stay (layers * directions, N, H)).
    dropout : float, default 0.0
        In training mode, dropout with this probability on the outputs of every layer
        but the last.
    bidirectional : bool, default False
        Also run each layer backwards in time; outputs are the two directions
        concatenated (2 H features).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, and of the
        dropout masks (the default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> out, h = nn.RNN(3, 5, num_layers=2, batch_first=True)(tg.randn(4, 7, 3))
    >>> out.shape, h.shape
    ((4, 7, 5), (2, 4, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False,
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         generator=generator, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory with PyTorch's gate order (i, f, g, o) and optional
    `proj_size`. `hx` is `(h_0, c_0)`; returns `(output, (h_n, c_n))`.

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    num_layers : int, default 1
        Recurrences stacked on each other (layer l reads layer l-1's states).
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    batch_first : bool, default False
        Inputs and outputs as (N, L, features) instead of (L, N, features) (the states
        `h_0`, `h_n` stay (layers * directions, N, H)).
    dropout : float, default 0.0
        In training mode, dropout with this probability on the outputs of every layer
        but the last.
    bidirectional : bool, default False
        Also run each layer backwards in time; outputs are the two directions
        concatenated (2 H features).
    proj_size : int, default 0
        When positive (LSTM only, smaller than `hidden_size`), project each layer's `h`
        to this size with `weight_hr_l{k}` (no bias).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, and of the
        dropout masks (the default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> out, (h, c) = nn.LSTM(3, 5, bidirectional=True)(tg.randn(7, 4, 3))
    >>> out.shape, h.shape, c.shape
    ((7, 4, 10), (2, 4, 5), (2, 4, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, generator: factories.Generator | None = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, generator, dtype)


class GRU(RNNBase):
    """Gated recurrent unit with PyTorch's gates (r, z, n) and
    `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`; returns `(output, h_n)`.

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    num_layers : int, default 1
        Recurrences stacked on each other (layer l reads layer l-1's states).
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    batch_first : bool, default False
        Inputs and outputs as (N, L, features) instead of (L, N, features) (the states
        `h_0`, `h_n` stay (layers * directions, N, H)).
    dropout : float, default 0.0
        In training mode, dropout with this probability on the outputs of every layer
        but the last.
    bidirectional : bool, default False
        Also run each layer backwards in time; outputs are the two directions
        concatenated (2 H features).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch, and of the
        dropout masks (the default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> out, h = nn.GRU(3, 5)(tg.randn(7, 3))   # unbatched
    >>> out.shape, h.shape
    ((7, 5), (1, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, generator=generator, dtype=dtype)


class RNNCellBase(Module):
    """One step of a recurrence on (N, H_in) or (H_in,) inputs, with parameters
    `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch (the
        default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.
    """

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 generator: factories.Generator | None = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        dtype = dtypes.check_float_dtype(dtype, name)
        _check_common(input_size, hidden_size, bias, name)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = GATES[self.mode] * hidden_size
        shapes = {"weight_ih": (gates, input_size), "weight_hh": (gates, hidden_size)}
        if bias:
            shapes.update(bias_ih=(gates,), bias_hh=(gates,))
        _uniform_params(self, shapes, hidden_size, generator, dtype)

    def _state(self, input: Tensor, state: Tensor | None, what: str) -> Tensor:
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {input.shape}")
        shape = input.shape[:-1] + (self.hidden_size,)
        if state is None:
            return factories.zeros(*shape, dtype=input.dtype)
        if state.shape != shape:
            raise ValueError(f"{name}: expected {what} of shape {shape}, got {state.shape}")
        return state

    def _cell(self, input: Tensor, h: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor | None]:
        get = self._parameters.get
        xp = _affine(input, self.weight_ih, get("bias_ih"))
        return _step(self.mode, xp, h, c, self.weight_hh, get("bias_hh"))

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        h, _ = self._cell(input, self._state(input, hx, "hx"), None)
        return h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(RNNCellBase):
    """`h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)` (or relu).

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    nonlinearity : {"tanh", "relu"}, default "tanh"
        The activation of the new state.
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch (the
        default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.RNNCell(3, 5, nonlinearity="relu")(tg.randn(4, 3)).shape
    (4, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", generator: factories.Generator | None = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, generator, dtype)
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"  # both: one gate
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    """One LSTM step; `hx` is `(h, c)` and the result `(h', c')`.

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch (the
        default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> h, c = nn.LSTMCell(3, 5)(tg.randn(4, 3))
    >>> h.shape, c.shape
    ((4, 5), (4, 5))
    """

    mode = "LSTM"

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:
        h_in, c_in = (None, None) if hx is None else hx
        h, c = self._cell(input, self._state(input, h_in, "h"), self._state(input, c_in, "c"))
        assert c is not None
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step with PyTorch's gates (r, z, n).

    Parameters
    ----------
    input_size : int
        H_in, the features of each step's input.
    hidden_size : int
        H, the features of the hidden state.
    bias : bool, default True
        Learn `bias_ih` and `bias_hh` (else there are none).
    generator : tinygrad_nd.Generator, optional
        Source of the initial values, U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch (the
        default generator otherwise).
    dtype : float dtype, optional
        Of the parameters: float32 by default, `np.float64` on request.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> nn.GRUCell(3, 5)(tg.randn(3)).shape
    (5,)
    """

    mode = "GRU"
