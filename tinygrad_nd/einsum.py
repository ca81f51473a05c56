"""Tensor contractions: `einsum`, `tensordot`, `outer`, `bmm`, `baddbmm`.

All are exact composites of registered ops (getitem for diagonals, sum, permute, reshape,
matmul), so their gradients, and gradients of gradients, come from those ops. `einsum`
contracts its operands pairwise, left to right, each pair as one (batched) matrix product:
labels in both operands and still needed are batch dims, labels in both and no longer
needed are contracted, the others are free rows and columns.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Tensor

# Placeholder labels for the dims an ellipsis stands for (never letters a user types).
_ELLIPSIS_LABELS = "".join(chr(0x3B1 + i) for i in range(24))  # Greek letters


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _parse(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """Input label strings (ellipses replaced by placeholder labels, right-aligned across
    operands) and the output label string (numpy's implicit output when there is no ->)."""
    eq = equation.replace(" ", "")
    inputs, arrow, output = eq.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operands, "
                         f"got {len(ndims)}")
    letters = set(string.ascii_letters)
    expanded, widest = [], 0
    for term, ndim in zip(terms, ndims):
        if term.count("...") > 1 or set(term.replace("...", "")) - letters:
            raise ValueError(f"einsum: bad subscripts {term!r} in {equation!r} (letters and "
                             "at most one ...)")
        named = len(term.replace("...", ""))
        ell = ndim - named
        if ell < 0 or (ell > 0 and "..." not in term):
            raise ValueError(f"einsum: subscripts {term!r} name {named} dims, but the operand "
                             f"has {ndim}")
        widest = max(widest, ell if "..." in term else 0)
        expanded.append(term.replace("...", _ELLIPSIS_LABELS[24 - ell:] if ell else ""))
    ellipsis = _ELLIPSIS_LABELS[24 - widest:] if widest else ""
    if not arrow:
        counts = "".join(t.replace("...", "") for t in terms)
        output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    else:
        if output.count("...") > 1 or set(output.replace("...", "")) - letters:
            raise ValueError(f"einsum: bad output subscripts {output!r} in {equation!r}")
        # (an explicit output without ... sums the broadcast dims away, as numpy)
        output = output.replace("...", ellipsis)
    if len(set(output)) != len(output):
        raise ValueError(f"einsum: output subscripts {output!r} repeat a label")
    missing = set(output) - set("".join(expanded))
    if missing:
        raise ValueError(f"einsum: output labels {sorted(missing)} appear in no operand of "
                         f"{equation!r}")
    return expanded, output


def _label_sizes(operands: list[Tensor], labels: list[str], equation: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for x, term in zip(operands, labels):
        for label, size in zip(term, x.shape):
            known = sizes.get(label, 1)
            if size != known and 1 not in (size, known):
                raise ValueError(f"einsum: label {label!r} of {equation!r} has sizes {known} "
                                 f"and {size} (operand shapes "
                                 f"{[tuple(o.shape) for o in operands]})")
            sizes[label] = max(size, known)
    return sizes


def _diagonal(x: Tensor, term: str) -> tuple[Tensor, str]:
    """Take the diagonal over every repeated label of one operand (`ii->i`)."""
    while len(set(term)) != len(term):
        label = next(c for c in term if term.count(c) > 1)
        p, q = [i for i, c in enumerate(term) if c == label][:2]
        if x.shape[p] != x.shape[q]:
            raise ValueError(f"einsum: repeated label {label!r} spans dims of sizes "
                             f"{x.shape[p]} and {x.shape[q]}")
        rest = [i for i in range(x.ndim) if i not in (p, q)]
        x = _permute(x, rest + [p, q])
        diag = np.arange(x.shape[-1])
        x = x[(Ellipsis, diag, diag)]
        term = "".join(term[i] for i in rest) + label
    return x, term


def _permute(x: Tensor, order: Sequence[int]) -> Tensor:
    order = [int(i) for i in order]
    return x if order == list(range(x.ndim)) else x.permute(order)


def _sum_out(x: Tensor, term: str, keep: set[str]) -> tuple[Tensor, str]:
    """Sum over the labels no later operand or the output needs."""
    gone = tuple(i for i, c in enumerate(term) if c not in keep)
    if not gone:
        return x, term
    return x.sum(axis=gone), "".join(c for c in term if c in keep)


def _drop_broadcast(x: Tensor, term: str, sizes: dict[str, int]) -> tuple[Tensor, str]:
    """Remove size-1 dims that broadcast against a larger size elsewhere."""
    ones = [i for i, c in enumerate(term) if x.shape[i] == 1 and sizes[c] != 1]
    if not ones:
        return x, term
    kept = [i for i in range(x.ndim) if i not in ones]
    return x.reshape(tuple(x.shape[i] for i in kept)), "".join(term[i] for i in kept)


def _contract(a: Tensor, la: str, b: Tensor, lb: str, keep: set[str]) -> tuple[Tensor, str]:
    """One pair as a matrix product: (batch, a_free, inner) @ (batch, inner, b_free)."""
    batch = [c for c in la if c in lb and c in keep]
    inner = [c for c in la if c in lb and c not in keep]
    free_a = [c for c in la if c not in lb]
    free_b = [c for c in lb if c not in la]
    size_a, size_b = dict(zip(la, a.shape)), dict(zip(lb, b.shape))

    def count(labels: list[str], sizes: dict[str, int]) -> int:
        return int(np.prod([sizes[c] for c in labels]))

    a = _permute(a, [la.index(c) for c in batch + free_a + inner])
    b = _permute(b, [lb.index(c) for c in batch + inner + free_b])
    rows, depth, cols = count(free_a, size_a), count(inner, size_a), count(free_b, size_b)
    lead = (count(batch, size_a),) if batch else ()  # (none: numpy's fastest 2-D product)
    out = _reshape(a, lead + (rows, depth)) @ _reshape(b, lead + (depth, cols))
    shape = tuple(size_a[c] for c in batch + free_a) + tuple(size_b[c] for c in free_b)
    return _reshape(out, shape), "".join(batch + free_a + free_b)


def _reshape(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    return x if x.shape == shape else x.reshape(shape)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, PyTorch's and numpy's `einsum`: any subscripts, with `...` for
    broadcast dims, repeated labels in one operand for diagonals and traces (`ii->`), and
    numpy's implicit output without `->`. Operands may also be given as one list.

    Parameters
    ----------
    equation : str
        The subscripts, e.g. `"ij,jk->ik"`.
    *operands : Tensor or array
        One operand per comma-separated term (or one list of them).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> a, b = tg.ones(2, 3), tg.ones(3, 4)
    >>> tg.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    >>> tg.einsum("ii", tg.eye(3)).item()  # the trace
    3.0
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: at least one operand is needed")
    xs = [_tensor(o) for o in operands]
    terms, output = _parse(equation, [x.ndim for x in xs])
    sizes = _label_sizes(xs, terms, equation)
    pieces = []
    for i, (x, term) in enumerate(zip(xs, terms)):
        x, term = _drop_broadcast(*_diagonal(x, term), sizes)
        later = set(output).union(*terms[:i], *terms[i + 1:])
        pieces.append(_sum_out(x, term, later))
    out, lo = pieces[0]
    for i, (x, term) in enumerate(pieces[1:], start=1):
        keep = set(output).union(*(t for _, t in pieces[i + 1:]))
        out, lo = _contract(out, lo, x, term, keep)
    out, lo = _sum_out(out, lo, set(output))
    return _permute(out, [lo.index(c) for c in output])


def tensordot(a: Any, b: Any, dims: int | Sequence[Any] = 2, *, axes: Any = None) -> Tensor:
    """Sum of products over the last `dims` dims of `a` and the first of `b`, or over
    the listed pairs `([a dims], [b dims])` (numpy's `axes` is an alias).

    Parameters
    ----------
    a, b : Tensor or array
        The operands.
    dims : int or pair of sequences
        How many trailing dims of `a` (leading of `b`) to contract, or which ones.
    axes : int or pair of sequences, optional
        numpy's name for `dims` (wins when given).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.tensordot(tg.ones(2, 3, 4), tg.ones(3, 4, 5), dims=2).shape
    (2, 5)
    """
    a, b = _tensor(a), _tensor(b)
    dims = dims if axes is None else axes
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} is out of range for shapes {a.shape} and "
                             f"{b.shape}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(int(dims)))
    else:
        dims_a, dims_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        if len(dims_a) != len(dims_b):
            raise ValueError(f"tensordot: {len(dims_a)} dims of a paired with {len(dims_b)} "
                             "of b")
        dims_a, dims_b = [d % a.ndim for d in dims_a], [d % b.ndim for d in dims_b]
    letters = string.ascii_letters
    la = letters[:a.ndim]
    lb = list(letters[a.ndim:a.ndim + b.ndim])
    for da, db in zip(dims_a, dims_b):
        lb[db] = la[da]
    out = [c for i, c in enumerate(la) if i not in dims_a] + \
        [c for i, c in enumerate(lb) if i not in dims_b]
    return einsum(f"{la},{''.join(lb)}->{''.join(out)}", a, b)


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of two vectors: `out[i, j] = a[i] * b[j]`.

    Parameters
    ----------
    a, b : Tensor or array
        1-D operands.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.outer(tg.Tensor([1.0, 2.0]), tg.Tensor([3.0, 4.0, 5.0])).tolist()
    [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
    """
    a, b = _tensor(a), _tensor(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def bmm(a: Any, b: Any) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, m) tensors (no broadcasting, as torch).

    Parameters
    ----------
    a, b : Tensor or array
        The (B, n, k) and (B, k, m) batches of matrices.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.bmm(tg.ones(5, 2, 3), tg.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    a, b = _tensor(a), _tensor(b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm: expected (B, n, k) and (B, k, m) tensors, got shapes {a.shape} "
                         f"and {b.shape}")
    return a @ b


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1.0,
            alpha: float = 1.0) -> Tensor:
    """`beta * input + alpha * bmm(batch1, batch2)`; with `beta=0` `input` is ignored
    (its NaNs too), as in PyTorch.

    Parameters
    ----------
    input : Tensor or array
        Added to the product; broadcast to (B, n, m).
    batch1, batch2 : Tensor or array
        The (B, n, k) and (B, k, m) batches of matrices.
    beta, alpha : float
        Scales of `input` and of the product.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.baddbmm(tg.ones(1, 2, 2), tg.ones(1, 2, 3), tg.ones(1, 3, 2), alpha=2.0).tolist()
    [[[7.0, 7.0], [7.0, 7.0]]]
    """
    product = bmm(batch1, batch2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    input = _tensor(input)
    return product + (input if beta == 1 else input * beta)
