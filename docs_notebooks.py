"""Write the tutorials (docs/tutorials/*.md) as Jupyter notebooks into notebooks/.

The Markdown pages are the sources: each ```` ```python ```` block becomes a code cell and
the prose between them a Markdown cell. The notebooks are committed without outputs so
students can open them directly; ``tests/test_notebooks.py`` checks that they match their
pages and executes them. Run after editing a tutorial::

    python docs_notebooks.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from docs_exec import python_blocks

ROOT = Path(__file__).resolve().parent
TUTORIALS = ROOT / "docs" / "tutorials"
NOTEBOOKS = ROOT / "notebooks"
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def notebook_text(page: Path) -> str:
    """The notebook (nbformat 4 JSON) of one tutorial page, deterministic: the same page
    always gives the same bytes, so a stale notebook is easy to detect. Exactly the blocks
    the site executes (``docs_exec.python_blocks``) become code cells; other fences (shell
    commands) stay Markdown, so running a notebook never installs anything."""
    import nbformat

    markdown = page.read_text()
    source = page.relative_to(ROOT).as_posix()
    cells = [nbformat.v4.new_markdown_cell(
        f"*Generated from `{source}` by `docs_notebooks.py`: edit the Markdown, not this "
        "notebook.*")]
    start = 0
    for block in python_blocks(markdown):
        prose = markdown[start:block.start()].strip()
        if prose:
            cells.append(nbformat.v4.new_markdown_cell(prose))
        cells.append(nbformat.v4.new_code_cell(block.group(1).rstrip("\n")))
        start = block.end()
    if markdown[start:].strip():
        cells.append(nbformat.v4.new_markdown_cell(markdown[start:].strip()))
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i}"
    notebook = nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}})
    return nbformat.writes(notebook) + "\n"


def expected_notebooks() -> dict[Path, str]:
    """Notebook path -> its text, for every tutorial page."""
    return {NOTEBOOKS / f"{page.stem}.ipynb": notebook_text(page)
            for page in sorted(TUTORIALS.glob("*.md"))}


def main() -> int:
    expected = expected_notebooks()
    NOTEBOOKS.mkdir(exist_ok=True)
    for stale in set(NOTEBOOKS.glob("*.ipynb")) - set(expected):
        stale.unlink()
        print(f"removed {stale.relative_to(ROOT)}")
    for path, text in expected.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
