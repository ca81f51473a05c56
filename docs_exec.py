"""Run a Markdown page's Python code blocks and write what they show under each block.

The documentation site calls :func:`render_outputs` on every page at build time (see
``docs_hooks.py``), so each tutorial shows the numbers and figures a reader gets by running
it. The blocks of a page run in order in one namespace, like the cells of a notebook, with
Jupyter's display rules:

- what the block prints (stdout and stderr, so warnings too) appears in an "Output" box;
- the value of a last line that is an expression is displayed, richly when the object
  knows how (``_repr_html_``, ``_repr_mimebundle_``/``_repr_svg_`` such as graph drawings,
  ``_repr_png_``) and as its ``repr`` otherwise; a trailing ``;`` hides it;
- matplotlib figures left open by the block (``plt.show()`` included) appear as inline
  images, then are closed.

A block that raises stops the build with :class:`DocsExecutionError` naming the page, the
block and its first line, so a tutorial cannot rot silently. Code runs in a temporary
working folder, so files the tutorials write never land in the repository.

Plain ```` ```python ```` fences stay plain: the same Markdown renders on GitHub and
converts to notebooks with jupytext (``docs_notebooks.py``). A page opts out with
``execute: false`` in its front matter.

Examples
--------
>>> print(render_outputs("```python\\nprint(6 * 7)\\n```\\n", "example.md"))
```python
print(6 * 7)
```
<BLANKLINE>
```text title="Output"
42
```
<BLANKLINE>
"""

from __future__ import annotations

import ast
import base64
import contextlib
import html
import io
import os
import re
import sys
import tempfile
import traceback
from typing import Any

# A ```python fence at the start of a line, up to the next closing fence on its own line.
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$\n?", re.M | re.S)


class DocsExecutionError(RuntimeError):
    """A documentation code block raised: the message names the page, block and line."""


def python_blocks(markdown: str) -> list[re.Match[str]]:
    """The ```` ```python ```` blocks of a page, in order (the code is ``match.group(1)``)."""
    return list(PYTHON_BLOCK.finditer(markdown))


def _image(mime: str, data: bytes | str, alt: str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    encoded = base64.b64encode(raw).decode()
    return (f'<figure class="exec-figure"><img alt="{html.escape(alt)}" '
            f'src="data:{mime};base64,{encoded}"></figure>')


def rich_display(value: Any, alt: str) -> tuple[str, str]:
    """``(html, text)`` for a displayed value, by Jupyter's preference: HTML, SVG, PNG,
    then ``repr``. Exactly one of the two is non-empty."""
    bundle: dict[str, Any] = {}
    if hasattr(value, "_repr_mimebundle_"):
        bundle = dict(value._repr_mimebundle_() or {})
    for mime, method in (("text/html", "_repr_html_"), ("image/svg+xml", "_repr_svg_"),
                         ("image/png", "_repr_png_")):
        if mime not in bundle and hasattr(value, method):
            shown = getattr(value, method)()
            if shown is not None:
                bundle[mime] = shown
    if "text/html" in bundle:
        return f'<div class="exec-html">{bundle["text/html"]}</div>', ""
    if "image/svg+xml" in bundle:
        return _image("image/svg+xml", bundle["image/svg+xml"], alt), ""
    if "image/png" in bundle:
        png = bundle["image/png"]
        return _image("image/png", base64.b64decode(png) if isinstance(png, str) else png,
                      alt), ""
    return "", repr(value)


def _open_figures(alt: str) -> list[str]:
    """Every open matplotlib figure as an inline PNG, closing them (as Jupyter's inline
    backend does at the end of a cell)."""
    if "matplotlib.pyplot" not in sys.modules:  # the block drew nothing
        return []
    import matplotlib.pyplot as plt

    images = []
    for number in plt.get_fignums():
        buffer = io.BytesIO()
        plt.figure(number).savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        images.append(_image("image/png", buffer.getvalue(), f"{alt}, figure {number}"))
    plt.close("all")
    return images


def run_block(code: str, namespace: dict[str, Any], name: str) -> tuple[str, list[str]]:
    """Run one block in ``namespace``; return its text output and its rich outputs (HTML
    fragments: displayed values, then figures). Exceptions propagate."""
    tree = ast.parse(code, name)
    last = tree.body[-1] if tree.body else None
    shows_last = isinstance(last, ast.Expr) and not code.rstrip().endswith(";")
    body = ast.Module(tree.body[:-1] if shows_last else tree.body, type_ignores=[])
    text, rich = io.StringIO(), []
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
        exec(compile(body, name, "exec"), namespace)
        if shows_last:
            value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
            if value is not None:
                shown, as_text = rich_display(value, f"{name}: {ast.unparse(last.value)}")
                if shown:
                    rich.append(shown)
                else:
                    print(as_text)
    return text.getvalue(), rich + _open_figures(name)


def _output_markdown(text: str, rich: list[str]) -> str:
    parts = []
    if text.strip():
        fence = "````" if "```" in text else "```"
        parts.append(f'{fence}text title="Output"\n{text.rstrip()}\n{fence}\n')
    parts += [f'<div class="exec-output">{fragment}</div>\n' for fragment in rich]
    return "\n".join(parts)


@contextlib.contextmanager
def _sandbox():
    """A temporary working folder, matplotlib drawing off-screen, ``plt.show`` a no-op
    (the open figures are collected after each block instead)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    old_cwd, old_show, old_path = os.getcwd(), plt.show, sys.path[:]
    plt.show = lambda *args, **kwargs: None
    # "" on sys.path means the working folder: keep it meaning the project's folder.
    sys.path[:] = [entry or old_cwd for entry in sys.path]
    with tempfile.TemporaryDirectory(prefix="docs-exec-") as folder:
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(old_cwd)
            sys.path[:] = old_path
            plt.show = old_show
            plt.close("all")


def render_outputs(markdown: str, page: str) -> str:
    """``markdown`` with each Python block followed by its output (see the module's
    docstring); raises :class:`DocsExecutionError` when a block raises."""
    blocks = python_blocks(markdown)
    if not blocks:
        return markdown
    namespace: dict[str, Any] = {"__name__": "__main__"}
    pieces, start = [], 0
    with _sandbox():
        for i, block in enumerate(blocks):
            line = markdown.count("\n", 0, block.start()) + 1
            name = f"{page}, code block {i + 1} (line {line})"
            try:
                text, rich = run_block(block.group(1), namespace, name)
            except Exception as error:
                in_block = [f.lineno for f in traceback.extract_tb(error.__traceback__)
                            if f.filename == name and f.lineno]
                where = f": line {line + in_block[-1]}" if in_block else ""
                raise DocsExecutionError(f"{name}{where} raised {error!r}") from error
            pieces += [markdown[start:block.end()], "\n", _output_markdown(text, rich)]
            start = block.end()
    pieces.append(markdown[start:])
    return "".join(pieces)
