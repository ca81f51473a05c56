"""MkDocs hook: pages that contain ``<!-- registered-ops -->`` get the table of registered ops
generated from the registry at build time, so the docs can never list a stale set."""

PLACEHOLDER = "<!-- registered-ops -->"


def on_page_markdown(markdown: str, **kwargs: object) -> str:
    if PLACEHOLDER not in markdown:
        return markdown
    import tinygrad_nd  # noqa: F401  (fills the registry)
    from tinygrad_nd.registry import op_table_markdown

    return markdown.replace(PLACEHOLDER, op_table_markdown())
