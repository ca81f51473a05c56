"""The executor that runs the documentation's code blocks at build time (docs_exec.py), and
the README's ten lines. The pages themselves run when the site is built
(tests/test_docs_site.py) and as notebooks (tests/test_notebooks.py)."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from docs_exec import DocsExecutionError, python_blocks, render_outputs  # noqa: E402

DOCS = ROOT / "docs"


def page(*blocks: str) -> str:
    return "# Page\n\n" + "\n".join(f"Text {i}.\n\n```python\n{b}\n```\n"
                                    for i, b in enumerate(blocks))


def test_printed_output_follows_its_block_and_blocks_share_a_namespace():
    out = render_outputs(page("x = 6 * 7", "print(x)", "y = 1"), "p.md")
    assert out.count('```text title="Output"') == 1
    assert re.search(r"print\(x\)\n```\n\n```text title=\"Output\"\n42\n```", out)
    assert out.startswith(page("x = 6 * 7", "print(x)", "y = 1")[:30])


def test_last_expression_is_displayed_unless_a_semicolon_hides_it():
    class Rich:
        def _repr_html_(self):
            return "<b>rich</b>"

    out = render_outputs(page("3 + 4", "5 + 6;", "None"), "p.md")
    assert out.count('```text title="Output"') == 1  # only 3 + 4 shows: 7
    assert '```text title="Output"\n7\n```' in out and "11" not in out
    namespace = {"Rich": Rich}
    from docs_exec import run_block

    text, rich = run_block("Rich()", namespace, "p.md")
    assert text == "" and rich == ['<div class="exec-html"><b>rich</b></div>']


def test_figures_become_inline_images_and_are_closed():
    out = render_outputs(page("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
                              "print(len(plt.get_fignums()))"), "p.md")
    assert out.count('<img alt="p.md, code block 1 (line 5), figure 1" '
                     'src="data:image/png;base64,') == 1
    assert "\n0\n" in out  # closed after its block


def test_a_failing_block_names_the_page_block_and_line():
    with pytest.raises(DocsExecutionError, match=r"p\.md, code block 2 \(line 11\): line 14 "
                                                 r"raised ZeroDivisionError"):
        render_outputs(page("x = 1", "y = 2\n\n1 / 0"), "p.md")


def test_code_runs_in_a_temporary_folder():
    out = render_outputs(page("import os\nopen('written.txt', 'w').close()\nprint(os.getcwd())"),
                         "p.md")
    folder = re.search(r"Output\"\n(.*)\n```", out).group(1)
    assert "docs-exec-" in folder and not Path(folder).exists()


def test_every_tutorial_has_code():
    for tutorial in sorted((DOCS / "tutorials").glob("*.md")):
        assert python_blocks(tutorial.read_text()), f"{tutorial.name} has no code to run"


def test_readme_ten_lines_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    readme = (ROOT / "README.md").read_text()
    block = python_blocks(readme)[0].group(1)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
