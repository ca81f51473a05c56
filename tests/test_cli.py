"""The ``tinygrad-nd`` experiments run end to end with tiny budgets and write valid reports."""

import json
import subprocess
import sys

import pytest

from tinygrad_nd import cli

TINY = {
    "vanishing": ["--epochs", "3", "--seeds", "2", "--images", "200", "--train-seeds", "2",
                  "--saturation-steps", "20"],
    "exploding": ["--steps", "5"],
    "remedies": ["--epochs", "1", "--long-epochs", "1", "--seeds", "1", "--images", "200",
                 "--validation", "100", "--pretrain-epochs", "1"],
    "depth": ["--epochs", "1", "--images", "300", "--depths", "1", "2"],
    "through-time": ["--lengths", "4", "6", "--steps", "3", "--gradient-length", "12",
                     "--seeds", "2", "--clip-steps", "3", "--clip-length", "6"],
}
TINY["foundations"] = ["--init-images", "300", "--init-epochs", "1", "--overfit-images", "100",
                       "--overfit-epochs", "2", "--dropout-epochs", "1", "--dropout-hidden", "30",
                       "--dropout-seeds", "1", "--neurons", "200", "--validation-images", "100",
                       "--test-images", "100"]


def assert_valid_png(path):
    from PIL import Image

    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] > 300 and image.size[1] > 200


@pytest.mark.parametrize("command", sorted(cli.EXPERIMENTS))
def test_experiment_writes_report_that_explains_itself_with_figures(command, tmp_path, capsys):
    assert set(TINY) == set(cli.EXPERIMENTS)
    out = tmp_path / command
    assert cli.main([command, "--out", str(out), *TINY[command]]) == 0
    report = (out / "report.md").read_text()
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[0] == "## What this shows", (command, sections)  # every report opens so
    assert sections[-1].startswith("## How this differs from the "), (command, sections)
    assert sections[-1].endswith(("book", "sources", "papers")), (command, sections)
    pngs = sorted(out.glob("*.png"))
    assert pngs and all(p.name in report for p in pngs)
    for png in pngs:
        assert_valid_png(png)
    results = json.loads((out / "results.json").read_text())
    assert results["config"]
    assert "report:" in capsys.readouterr().out


def test_vanishing_numbers_have_the_chapters_shape(tmp_path):
    cli.main(["vanishing", "--out", str(tmp_path), "--epochs", "0", "--seeds", "3",
              "--saturation-steps", "0"])
    results = json.loads((tmp_path / "results.json").read_text())
    for depth, stats in results["at_init"].items():
        assert all(a < b for a, b in zip(stats["mean"], stats["mean"][1:])), (depth, stats)
    assert results["at_init"]["4"]["first_over_last"] < 0.05


def test_console_script_help_and_offline_error(tmp_path, monkeypatch):
    proc = subprocess.run([sys.executable, "-m", "tinygrad_nd.cli", "--help"],
                          capture_output=True, text=True, check=True)
    assert "vanishing" in proc.stdout and "exploding" in proc.stdout
    monkeypatch.setattr("tinygrad_nd.data.datasets.DEBIAN_FASHION", tmp_path / "none")
    monkeypatch.delenv("TINYGRAD_ND_DATA", raising=False)
    assert cli.main(["depth", "--dataset", "fashion", "--out", str(tmp_path)]) == 2


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="needs graphviz's dot")
@pytest.mark.parametrize("source", ["deep-sigmoid", "cnn", "examples/graph_model.py"])
def test_graph_command_renders(source, tmp_path):
    out = tmp_path / "graph.png"
    assert cli.main(["graph", source, "--out", str(out), "--collapse"]) == 0
    assert_valid_png(out)


def test_graph_command_writes_dot_without_the_dot_program(tmp_path):
    out = tmp_path / "graph.dot"
    assert cli.main(["graph", "mlp", "--out", str(out)]) == 0
    assert out.read_text().startswith("digraph")
    assert cli.main(["graph", "no-such-model", "--out", str(out)]) == 2


def test_quiet_hides_progress_bars_and_a_terminal_shows_them(tmp_path, monkeypatch, capsys):
    from tinygrad_nd.experiments import common

    shown = []
    real = common.progress

    def spy(iterable, **kwargs):
        bar = real(iterable, **kwargs)
        shown.append(not bar.disable)
        return bar

    monkeypatch.setattr(common, "progress", spy)
    for module in ("vanishing", "depth", "remedies", "exploding_remedies"):
        monkeypatch.setattr(f"tinygrad_nd.experiments.{module}.progress", spy)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    args = ["exploding", "--steps", "3", "--out", str(tmp_path / "a")]
    assert cli.main(args) == 0
    assert shown and all(shown)
    shown.clear()
    assert cli.main(args[:-1] + [str(tmp_path / "b"), "--quiet"]) == 0
    assert shown and not any(shown)
    common.set_progress(True)
