"""The built documentation site shows what its Markdown says: every heading is a heading,
and no code fence leaks into the page as literal text (a closing fence with text after it
once swallowed a whole section of the custom-op tutorial into a code block)."""

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(`{3,}|~{3,})", re.M)
# The built site is the session-wide `site` fixture (tests/_browser.py, via conftest.py), which
# the browser tests of tests/test_site_browser.py share: one build per test run.


def markdown_headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of the headings outside code blocks."""
    headings, in_code = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            in_code = not in_code
            continue
        match = re.match(r"(#{1,6})\s+(.*?)\s*#*$", line)
        if match and not in_code:
            headings.append((len(match.group(1)), match.group(2)))
    return headings


def plain(fragment: str) -> str:
    """Heading text without Markdown or HTML markup, as a reader sees it."""
    fragment = re.sub(r"<[^>]+>", "", fragment)
    fragment = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", fragment)
    return " ".join(html.unescape(fragment).replace("¶", "").split())


PAGES = sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_heading_is_a_heading_and_no_fence_leaks(page, site):
    rel = page.relative_to(DOCS).with_suffix("")
    built = site / ("index.html" if rel.name == "index" and rel.parent == Path(".")
                    else rel / "index.html" if rel.name != "index" else rel.parent / "index.html")
    page_html = built.read_text()
    shown = {(int(level), plain(text)) for level, text in
             re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", page_html, re.S)}
    for level, text in markdown_headings(page.read_text()):
        assert (level, plain(text)) in shown, f"{page.name}: heading {text!r} is not a heading"
    body = re.sub(r"<(pre|code)[^>]*>.*?</\1>", "", page_html, flags=re.S)
    assert "```" not in body, f"{page.name}: a literal code fence shows in the page"


def test_the_check_catches_a_fence_with_text_after_it(tmp_path):
    """The bug this file guards against, built with the site's own Markdown extensions: a
    closing fence followed by text does not close the block, and the section after it is no
    longer a heading."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Page\n\n```python\nx = 1\n``` To call another op\n\n## Proving it right\n\n"
        "```python\ny = 2\n```\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nmarkdown_extensions:\n  - pymdownx.highlight\n  - pymdownx.superfences\n")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet"], cwd=tmp_path,
                   check=True, env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    page_html = (tmp_path / "site" / "index.html").read_text()
    shown = {plain(t) for _, t in re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", page_html, re.S)}
    assert (2, "Proving it right") in markdown_headings((tmp_path / "docs" / "index.md")
                                                         .read_text())
    assert "Proving it right" not in shown  # so the page test above would fail on it


def built(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text()


def outputs(page_html: str) -> list[str]:
    """The text of the "Output" boxes that the build wrote under the code blocks."""
    boxes = re.findall(r'<span class="filename">Output</span><pre>.*?<code>(.*?)</code>',
                       page_html, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", box)).strip() for box in boxes]


def test_pages_show_what_their_code_printed(site):
    printed = outputs(built(site, "tutorials/autograd"))
    assert "sum sigmoid True" in printed[0]      # print(loss.op, y.op, x.is_leaf)
    assert "Tensor([19.])" in printed            # 7 + 6 + 6 accumulated by two backwards
    convnets = outputs(built(site, "tutorials/convnets"))
    assert "[[-5. -5. -5.]" in convnets[0]        # x[i, j] - x[i + 1, j + 1] everywhere


def test_pages_show_figures_and_rich_displays_inline(site):
    figure = re.compile(r'<figure class="exec-figure"><img alt="[^"]*" '
                        r'src="data:image/(png|svg\+xml);base64,[A-Za-z0-9+/=]{200,}">')
    assert [m.group(1) for m in figure.finditer(built(site, "tutorials/autograd"))] == ["svg+xml"]
    assert "png" in [m.group(1) for m in figure.finditer(built(site, "tutorials/convnets"))]
    jupyter = built(site, "tutorials/jupyter")
    assert "<caption>GradientMonitor after 10 backward passes</caption>" in jupyter
    assert "<caption>diagnose()</caption>" in jupyter


def test_a_failing_code_block_fails_the_build(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Page\n\n```python\nx = 1\nx / 0\n```\n")
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\nhooks:\n  - {ROOT / 'docs_hooks.py'}\nmarkdown_extensions:\n"
        "  - pymdownx.highlight\n  - pymdownx.superfences\n")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode != 0
    assert "index.md, code block 1 (line 3): line 5 raised ZeroDivisionError" in done.stderr


API_PAGES = sorted(p.relative_to(DOCS).with_suffix("").as_posix()
                   for p in (DOCS / "api").glob("*.md"))


@pytest.mark.parametrize("page", API_PAGES)
def test_api_pages_show_no_literal_double_backticks(page, site):
    """RST's ``code`` is not Markdown's `code`: mkdocstrings printed the backticks."""
    text = re.sub(r"<[^>]+>", "", built(site, page))
    assert "``" not in text, f"{page}: {text[text.index('``') - 60:text.index('``') + 40]!r}"


# Modules whose rendered objects do not all document their parameters yet. Remove a module
# once it does (the test below fails while a listed module is already complete).
PENDING = {"tinygrad_nd.cli"}


def documented_parameters(obj) -> dict[str, str]:
    """Name -> description from an object's numpy-style Parameters (or, for dataclasses
    and the like, Attributes) sections, as mkdocstrings reads them."""
    found = {}
    for section in (obj.docstring.parsed if obj is not None and obj.docstring else []):
        if section.kind.value in ("parameters", "other parameters", "attributes"):
            found.update({item.name.lstrip("*"): item.description.strip()
                          for item in section.value})
    return found


def undocumented_parameters(site: Path) -> dict[str, list[str]]:
    """Every function, method and class rendered on an API page -> its parameters that have
    no description (a class's are its `__init__`'s, documented in the class docstring: the
    one mkdocstrings renders)."""
    griffe = pytest.importorskip("griffe")
    package = griffe.load("tinygrad_nd", docstring_parser="numpy", search_paths=[str(ROOT)])
    missing = {}
    for page in API_PAGES:
        for path in re.findall(r'<h[2-6] id="tinygrad_nd\.([\w.]+)"', built(site, page)):
            obj = package[path]
            obj = obj.final_target if obj.is_alias else obj
            docs = documented_parameters(obj)
            if obj.is_class:
                obj = obj.all_members.get("__init__")
                obj = obj.final_target if obj is not None and obj.is_alias else obj
            if obj is None or not obj.is_function:
                continue
            names = [p.name for p in obj.parameters if p.name not in ("self", "cls")
                     and p.kind.value not in ("variadic positional", "variadic keyword")]
            if [n for n in names if not docs.get(n)]:
                missing[f"tinygrad_nd.{path}"] = [n for n in names if not docs.get(n)]
    return missing


def test_api_pages_document_every_parameter(site):
    missing = undocumented_parameters(site)
    pending = {p for p in PENDING if any(m == p or m.startswith(p + ".") for m in missing)}
    checked = {m: v for m, v in missing.items()
               if not any(m == p or m.startswith(p + ".") for p in PENDING)}
    assert not checked, "parameters without a description:\n" + "\n".join(
        f"  {m}: {', '.join(v)}" for m, v in checked.items())
    assert pending == PENDING, f"now fully documented, remove from PENDING: {PENDING - pending}"
