"""What a drawing of `tinygrad_nd.viz` shows: the tensors reachable from its roots
(`collect`) and the gradient norm of each, recorded during a backward pass (`record_grads`)
or measured aside (`gradient_norms`, replaying the forward when the buffers are freed).

Re-exported by `tinygrad_nd.viz`; the norms are read by its drawings, the interactive page
(`tinygrad_nd.viz_html`) and the snapshots of training (`tinygrad_nd.experiments.snapshots`).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import autograd, engine
from .diagnostics.norms import l2_norm
from .tensor import Tensor


def collect(roots: Sequence[Tensor], max_nodes: int | None = None
            ) -> tuple[list[Tensor], list[tuple[Tensor, Tensor]], int]:
    """Tensors reachable from `roots` (outputs first, breadth first) and the data-flow edges
    (input, consumer); stops after `max_nodes` and returns how many were left out.

    Parameters
    ----------
    roots : sequence of Tensor
        The graph's outputs (usually just the loss).
    max_nodes : int, optional
        Keep at most this many nodes (the first ones met); all by default.

    Returns
    -------
    (nodes, edges, omitted)
        The kept tensors, the edges between kept tensors, and how many tensors were left out.
    """
    nodes: list[Tensor] = []
    edges: list[tuple[Tensor, Tensor]] = []
    seen = {id(r) for r in roots}
    queue = list(roots)
    head = 0
    while head < len(queue):  # the walk is cheap; only drawing is limited by max_nodes
        t = queue[head]
        head += 1
        if max_nodes is None or len(nodes) < max_nodes:
            nodes.append(t)
        if t._ctx is None:
            continue
        for parent in t._ctx.inputs:
            edges.append((parent, t))
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    kept = {id(n) for n in nodes}
    omitted = len(queue) - len(nodes)
    return nodes, [(a, b) for a, b in edges if id(a) in kept and id(b) in kept], omitted


# What the drawer remembers about a node lives here, not on the engine's Context: op context
# -> norm of its output's gradient, recorded by record_grads (entries go with their graph).
_recorded_norms: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def recorded_norm(t: Tensor) -> float | None:
    """The gradient norm that `record_grads` stored for `t`'s op, if any.

    Parameters
    ----------
    t : Tensor
        A node of a graph; a leaf (no op) has none (its norm is that of its `.grad`).
    """
    return _recorded_norms.get(t._ctx) if t._ctx is not None else None


class record_grads:
    """While active, every backward pass stores each op output's gradient norm in the graph,
    so `show_grads` works after a plain `backward()` that freed the buffers."""

    def __init__(self) -> None:
        self._observing = autograd.observe(backward=self._observe)

    def __enter__(self) -> record_grads:
        self._observing.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._observing.__exit__()

    @staticmethod
    def _observe(ctx: autograd.Context, g: np.ndarray, grads: tuple[Any, ...]) -> None:
        _recorded_norms[ctx] = l2_norm(g)  # leaves keep their .grad, which the drawer reads


def gradient_norms(roots: Sequence[Tensor], nodes: Sequence[Tensor]) -> dict[int, float]:
    """Gradient norm of the (first) root with respect to every node, by id.

    Uses norms recorded by `record_grads` when present and the `.grad` of leaves;
    otherwise differentiates the graph once more, replaying its forward first when
    `backward()` has freed its buffers (so drawing after a plain backward just works).

    Parameters
    ----------
    roots : sequence of Tensor
        The graph's outputs; the gradients are those of `roots[0]` (of its sum when it is
        not a scalar).
    nodes : sequence of Tensor
        The tensors to measure (e.g. `collect(roots)[0]`); `.grad` fields are left as
        they are.

    Returns
    -------
    dict of int -> float
        `id(tensor)` -> L2 norm of the gradient (0.0 for a node the root does not depend
        on); nodes that do not require grad are left out.
    """
    norms: dict[int, float] = {}
    for t in nodes:
        if t._ctx is not None and t._ctx in _recorded_norms:
            norms[id(t)] = _recorded_norms[t._ctx]
        elif t._ctx is None and t.grad is not None:
            norms[id(t)] = l2_norm(t.grad.data)
    missing = [t for t in nodes if id(t) not in norms and t.requires_grad]
    if missing:
        root = roots[0]
        twins: dict[int, Tensor] = {}
        if any(t._ctx is not None and t._ctx._freed for t in nodes):
            # backward() freed the buffers: rebuild them by replaying the forward.
            twins = engine.replay([root])
        seed = None if root.size == 1 else Tensor(np.ones(root.shape), dtype=root.dtype)
        grads = engine.grad(twins.get(id(root), root), [twins.get(id(t), t) for t in missing],
                              seed, retain_graph=True, allow_unused=True)
        for t, g in zip(missing, grads):
            norms[id(t)] = l2_norm(g.data) if g is not None else 0.0
    return norms
