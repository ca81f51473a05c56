"""Every Python block of the tutorials runs, in order, in one namespace per page."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted((DOCS / "tutorials").glob("*.md")) + [DOCS / "index.md", DOCS / "performance.md"]
PAGES.append(DOCS / "jit.md")  # issue #17: the compiled step's page
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_tutorial_code_runs(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    blocks = BLOCK.findall(page.read_text())
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{page.name}[block {i}]", "exec"), namespace)
        except Exception as e:  # name the page and block, keep the traceback
            raise AssertionError(f"{page.name}, code block {i} failed: {e!r}") from e
    if page.parent.name == "tutorials":
        assert blocks, f"{page.name} has no code to run"


def test_readme_ten_lines_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    readme = (DOCS.parent / "README.md").read_text()
    block = BLOCK.findall(readme)[0]
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
