"""MkDocs hooks.

- Pages that contain ``<!-- registered-ops -->`` get the table of registered ops generated
  from the registry at build time, so the docs can never list a stale set.
- Every page's Python code blocks run at build time and their printed output, displayed
  values and figures are written under them (``docs_exec.py``); a block that raises fails
  the build. A page opts out with ``execute: false`` in its front matter.
"""

from typing import Any

from docs_exec import render_outputs

PLACEHOLDER = "<!-- registered-ops -->"


def on_page_markdown(markdown: str, page: Any, **kwargs: object) -> str:
    if PLACEHOLDER in markdown:
        import tinygrad_nd  # noqa: F401  (fills the registry)
        from tinygrad_nd.registry import op_table_markdown

        markdown = markdown.replace(PLACEHOLDER, op_table_markdown())
    if page.meta.get("execute", True) is False:
        return markdown
    return render_outputs(markdown, page.file.src_uri)
