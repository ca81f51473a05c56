"""How diagnostics show themselves outside a terminal: HTML tables and inline figures for
Jupyter (`_repr_html_`), and tidy records for CSV / JSON files."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> str:
    """A small HTML table (numbers to 4 significant digits, NaN as a dash)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def pyplot() -> Any:
    """`matplotlib.pyplot`, drawing off-screen (Agg) unless a backend is chosen already:
    Jupyter's inline backend (`MPLBACKEND`) or a pyplot the user imported keeps showing
    figures where the user sees them."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_html(fig: Any) -> str:
    """A matplotlib figure as an inline PNG `<img>` (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}"/>'


def write_records(records: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write records (dicts with the same keys) as CSV (`.csv`) or JSON (`.json`),
    atomically; NaN becomes an empty CSV cell or JSON `null`."""
    path = Path(path)
    if path.suffix not in (".csv", ".json"):
        raise ValueError(f"write_records: expected a .csv or .json path, got {str(path)!r}")
    clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
             for r in records]
    with atomic_write(path, "w") as f:
        if path.suffix == ".json":
            json.dump(clean, f, indent=1)
        else:
            writer = csv.DictWriter(f, fieldnames=list(clean[0]) if clean else [])
            writer.writeheader()
            writer.writerows(clean)
    return path
