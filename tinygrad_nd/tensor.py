"""`Tensor`: a numpy array that records the operations applied to it.

Every differentiable method is an explicit one-liner that dispatches to a registered op
(`apply("mul", self, other)`); composites such as `var` are a few such calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from . import autograd, dtypes, engine, registry
from .hooks import RemovableHandle, add_hook
from .methods import ElementwiseMethods, LinalgMethods, MovementMethods, ReductionMethods
from .registry import apply

Scalar = int | float | bool


class Tensor(ElementwiseMethods, ReductionMethods, MovementMethods, LinalgMethods):
    """An n-dimensional array with automatic differentiation.

    Parameters
    ----------
    data : array_like or Tensor
        Values. Float data becomes the default dtype (`float32`) unless `dtype` is given;
        an ndarray of that dtype is used without a copy, a Tensor is copied.
    requires_grad : bool
        Record operations on this tensor so that `backward` computes its `.grad`.
    dtype : numpy dtype, optional
        For example `np.float64` for gradient checks, `np.int64` for labels. Supported:
        bool, int8-int64, uint8-uint64, float16/32/64 (float16 only when asked for: float
        data of any width becomes the default dtype otherwise). Complex, object, string and
        datetime values or dtypes raise a TypeError here, in the factories, `astype`,
        `Parameter` and when mixed into an operation (`t + np.array([1j])`).
    name : str, optional
        Shown by `repr` and the graph drawer.

    Notes
    -----
    Indexing follows PyTorch: an integer is a `select` applied before the advanced (array,
    mask) indices, so `t[1, :, idx]` has shape `(3, 2)` for `t` of shape (2, 3, 4) and
    `idx` of 2 entries where numpy gives (2, 3); see `tinygrad_nd.indexing`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_ctx", "_version", "_hooks",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # so `ndarray + Tensor` defers to Tensor.__radd__
    __hash__ = object.__hash__  # == is elementwise, identity stays the hash

    def __init__(self, data: Any, requires_grad: bool = False, dtype: DTypeLike | None = None,
                 name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data.copy() if dtype is None else data.data.astype(dtype)
        self.data: np.ndarray = dtypes.as_array(data, dtype)
        self.grad: Tensor | None = None
        self.requires_grad = False
        self.name = name
        self._ctx: autograd.Context | None = None
        self._version = [0]
        self._hooks: dict[int, Callable[[Tensor], Tensor | None]] | None = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, ctx: autograd.Context | None) -> Tensor:
        """Wrap an op's output array without any checks (the engine's fast path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = ctx is not None
        t.name = None
        t._ctx = ctx
        t._version = [0]
        t._hooks = None
        t._retains_grad = False
        return t

    # ---- properties -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded op."""
        return self._ctx is None

    @property
    def op(self) -> str | None:
        """Name of the registered op that produced this tensor (`None` for leaves)."""
        return None if self._ctx is None else self._ctx.function.op_name

    @property
    def T(self) -> Tensor:
        """All axes reversed (numpy's `.T`)."""
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (batched matrix transpose)."""
        return self.transpose(-2, -1)

    def apply(self, op: str, *others: Any, **params: Any) -> Tensor:
        """Run the registered op `op` with this tensor as its first input: how a user's own
        op is called as a method (`x.apply("my_op", y, alpha=2)`; `tg.my_op(x, y)` works
        too). Built-in ops have their own methods.

        (Not a `__getattr__` fallback: on CPython 3.11 any `__getattr__` on a class turns
        off the fast path of every attribute access of its instances, ~7% of a small step.)

        Parameters
        ----------
        op : str
            The name the op was registered under (`register_op`); further positional
            arguments are its other tensor inputs, keywords its parameters.

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> tg.Tensor([1.0, 4.0]).apply("sqrt").tolist()
        [1.0, 2.0]
        """
        if registry.user_facing(op) is None:
            raise AttributeError(f"Tensor.apply: no user-facing registered op named {op!r}")
        return apply(op, self, *others, **params)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = [] if self.dtype == dtypes.get_default_dtype() else [f"dtype={self.dtype}"]
        if self._ctx is not None:
            extras.append(f"op={self.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # ---- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """`np.exp(t)`, `arr * t`: the registered op, recorded (see array_protocol)."""
        from . import array_protocol

        return array_protocol.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable[..., Any], types: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        """`np.sum(t)`, `np.where(m, t, 0)`: the Tensor equivalent (see array_protocol)."""
        from . import array_protocol

        return array_protocol.array_function(func, args, kwargs)

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a Python "
                             f"scalar, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """Nested Python lists of the values."""
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all()")
        return bool(self.item())

    def astype(self, dtype: DTypeLike) -> Tensor:
        """Convert to `dtype` (differentiable between floating dtypes).

        Parameters
        ----------
        dtype : numpy dtype or str
            The target dtype (`np.float64`, `"float32"`, `np.int64`...).
        """
        dtype = dtypes.check_dtype(dtype, "astype")
        return self if dtype == self.dtype else apply("cast", self, dtype=dtype)

    def float(self) -> Tensor:
        """Convert to float32."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """Convert to int64 (no gradient flows through)."""
        return Tensor._make(self.data.astype(np.int64), None)

    # ---- autograd ---------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place on a leaf tensor; returns `self`.

        Parameters
        ----------
        requires_grad : bool, default True
            The new flag; True needs a floating-point dtype, False a leaf.
        """
        if requires_grad and not dtypes.is_floating(self.dtype):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{self.dtype} (shape {self.shape})")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and version counter), cut from the graph."""
        t = Tensor._make(self.data, None)
        t._version = self._version
        return t

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into `.grad` of every leaf it depends on.

        Parameters
        ----------
        gradient : Tensor or array, optional
            d(something)/d(self); required unless this tensor has one element.
        retain_graph : bool, optional
            Keep saved buffers so backward can run again (defaults to `create_graph`).
        create_graph : bool
            Record the backward pass itself, for higher-order derivatives.
        """
        engine.backward(self, gradient, retain_graph, create_graph)

    def retain_grad(self) -> None:
        """Make backward store `.grad` on this non-leaf tensor too."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with `remove()`.

        Parameters
        ----------
        hook : callable
            `hook(grad) -> Tensor or None`, called with the fully summed gradient.

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> x = tg.ones(3, requires_grad=True)
        >>> h = x.register_hook(lambda g: g.clip(max=0.5))
        >>> (2 * x).sum().backward(); x.grad.tolist()
        [0.5, 0.5, 0.5]
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, hook)

    # ---- in-place updates (optimizers, initialisers) ------------------------------------
    def _inplace(self, op: str) -> np.ndarray:
        if autograd.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(f"{op}: in-place change of a tensor that requires grad (shape "
                               f"{self.shape}); do it under tg.no_grad(), or use the "
                               "out-of-place operation")
        self._version[0] += 1
        autograd.bump_inplace_epoch()
        return self.data

    def _value(self, other: Any) -> Any:
        if isinstance(other, Tensor):
            return other.data
        dtypes.check_dtype(np.asarray(other).dtype, "Tensor operand")
        return other

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        """In place: `self += alpha * other`.

        Parameters
        ----------
        other : Tensor, array-like or number
            Broadcast to this tensor's shape and cast to its dtype.
        alpha : float, default 1.0
            Multiplies `other` first.
        """
        v = self._value(other)
        np.add(self._inplace("add_"), v if alpha == 1.0 else alpha * v, out=self.data,
               casting="unsafe")
        return self

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        """In place: `self -= alpha * other`.

        Parameters
        ----------
        other : Tensor, array-like or number
            Broadcast to this tensor's shape and cast to its dtype.
        alpha : float, default 1.0
            Multiplies `other` first.
        """
        return self.add_(other, -alpha)

    def mul_(self, other: Any) -> Tensor:
        """In place: `self *= other`.

        Parameters
        ----------
        other : Tensor, array-like or number
            Broadcast to this tensor's shape and cast to its dtype.
        """
        np.multiply(self._inplace("mul_"), self._value(other), out=self.data, casting="unsafe")
        return self

    def copy_(self, other: Any) -> Tensor:
        """In place: copy `other`'s values (broadcast to this shape).

        Parameters
        ----------
        other : Tensor, array-like or number
            Broadcast to this tensor's shape and cast to its dtype.
        """
        np.copyto(self._inplace("copy_"), self._value(other), casting="unsafe")
        return self

    def fill_(self, value: Scalar) -> Tensor:
        """In place: set every element to `value`.

        Parameters
        ----------
        value : number
            The value every element takes (cast to the dtype).
        """
        dtypes.check_dtype(np.asarray(value).dtype, "fill_: value")
        self._inplace("fill_").fill(value)
        return self

    def zero_(self) -> Tensor:
        """In place: set every element to zero."""
        return self.fill_(0)

    # ---- operands ---------------------------------------------------------------------
    def _operand(self, other: Any, op: str = "Tensor operand") -> Tensor:
        """Turn a Python/numpy operand into a constant of a matching dtype."""
        if isinstance(other, Tensor):
            mixed = (self.dtype.kind == "f") != (other.dtype.kind == "f")
            if other.dtype == self.dtype or not mixed:
                return other
            # int/bool mixed with float: compute in the float dtype, as PyTorch does.
            return other if other.dtype.kind == "f" else Tensor._make(
                other.data.astype(self.dtype), None)
        arr = np.asarray(other)
        dtypes.check_dtype(arr.dtype, op)
        if self.dtype.kind == "f":
            return Tensor._make(arr.astype(self.dtype, copy=False), None)
        return Tensor(arr)

    def _binary(self, name: str, other: Any, reverse: bool = False) -> Tensor:
        if type(other) is not Tensor or other.data.dtype is not self.data.dtype:
            other = self._operand(other, name)
            if other.dtype.kind == "f" and self.dtype.kind != "f":
                return other._binary(name, self, not reverse)
        return apply(name, other, self) if reverse else apply(name, self, other)

    # ---- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return self._binary("add", other)

    def __radd__(self, other: Any) -> Tensor:
        return self._binary("add", other, reverse=True)

    def __sub__(self, other: Any) -> Tensor:
        return self._binary("sub", other)

    def __rsub__(self, other: Any) -> Tensor:
        return self._binary("sub", other, reverse=True)

    def __mul__(self, other: Any) -> Tensor:
        return self._binary("mul", other)

    def __rmul__(self, other: Any) -> Tensor:
        return self._binary("mul", other, reverse=True)

    def __truediv__(self, other: Any) -> Tensor:
        return self._binary("div", other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._binary("div", other, reverse=True)

    def __pow__(self, other: Any) -> Tensor:
        return self._binary("pow", other)

    def __rpow__(self, other: Any) -> Tensor:
        return self._binary("pow", other, reverse=True)

    def __matmul__(self, other: Any) -> Tensor:
        return self._binary("matmul", other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._binary("matmul", other, reverse=True)

    def __neg__(self) -> Tensor:
        return apply("neg", self)

    def __abs__(self) -> Tensor:
        return apply("abs", self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with numpy's `matmul` rules (1-D and batched operands).

        Parameters
        ----------
        other : Tensor or array-like
            The right operand (numpy's rules: 1-D vectors, batch dims broadcast).
        """
        return self._binary("matmul", other)

    def pow(self, exponent: Any) -> Tensor:
        """Elementwise `self ** exponent`.

        Parameters
        ----------
        exponent : Tensor, array-like or number
            Broadcast with `self`.
        """
        return self._binary("pow", exponent)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum (ties split the gradient equally).

        Parameters
        ----------
        other : Tensor, array-like or number
            Broadcast with `self`.
        """
        return self._binary("maximum", other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum (ties split the gradient equally).

        Parameters
        ----------
        other : Tensor, array-like or number
            Broadcast with `self`.
        """
        return self._binary("minimum", other)

    # ---- comparisons (no gradient) ----------------------------------------------------
    def _compare(self, fn: Callable[..., np.ndarray], other: Any) -> Tensor:
        return Tensor._make(fn(self.data, self._value(other)), None)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.equal, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.not_equal, other)


