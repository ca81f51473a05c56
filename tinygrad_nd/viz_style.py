"""How a drawing of `tinygrad_nd.viz` looks: the node style of each kind, the colour scale
of gradient norms (viridis over log10 of the norm, red for zero or non-finite ones), its
range (`colour_range`, `vmin`/`vmax`), its legend and tick labels, and each node's label.

Shared with the interactive page (`tinygrad_nd.viz_html`), so both colour a norm the same
way; re-exported by `tinygrad_nd.viz`.

Examples
--------
>>> from tinygrad_nd import viz_style
>>> [viz_style.plain_number(t) for t in viz_style.legend_ticks(-2.0, 0.0)]
['0.01', '0.1', '1']
"""

from __future__ import annotations

import html
import math

import numpy as np

from .tensor import Tensor

STYLE = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#e8e8e8"',
    "param": 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"',
    "op": 'shape=ellipse, style=filled, fillcolor="#ffffff"',
    "output": 'shape=doubleoctagon, style=filled, fillcolor="#ffd8a8"',
}


def _colour(value: float, lo: float, hi: float) -> tuple[str, str]:
    """Viridis fill and a readable font colour for log10 `value` in [lo, hi]."""
    from matplotlib import colormaps

    if not math.isfinite(value) or value <= 0:
        return "#ff4d4d", "black"  # zero/NaN/inf gradients stand out in red
    x = 0.5 if hi <= lo else (math.log10(value) - lo) / (hi - lo)
    r, g, b, _ = colormaps["viridis"](min(max(x, 0.0), 1.0))
    font = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}", font


def _shape(t: Tensor) -> str:
    return "×".join(map(str, t.shape)) if t.shape else "scalar"


def _label(title: str, t: Tensor, norm: float | None) -> str:
    rows = [f"<B>{html.escape(title)}</B>", f"{_shape(t)} {t.dtype}"]
    if norm is not None:
        rows.append(f"‖grad‖ = {norm:.3g}")
    return "<" + "<BR/>".join(rows) + ">"


def plain_number(value: float) -> str:
    """A tick label as a plain number with two significant digits: `0.001`, `0.25`, `130`;
    below 1e-4 or from 1e5 up as `1e-06` (an integer exponent, never `1e-2.8`), since
    `0.0000025` is long and easy to misread. The one formatter of the drawings' colour legend,
    the interactive page's legend and curve axis (`tinygrad_nd.viz_html`) and the reports.

    Parameters
    ----------
    value : float
        The number to label (a gradient norm, a tick of a log axis); any sign, 0 gives `0`.

    Returns
    -------
    str
        The label, e.g. `"0.0032"` or `"2.5e-07"`.

    Examples
    --------
    >>> [plain_number(v) for v in (0.001, 0.0032, 130.0, 2.5e-7)]
    ['0.001', '0.0032', '130', '2.5e-07']
    """
    if value == 0 or 1e-4 <= abs(value) < 1e5:
        return np.format_float_positional(value, precision=2, unique=True, fractional=False,
                                          trim="-")
    return f"{value:.2g}"


def legend_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round tick values for a log10 axis or colour legend spanning log10 range [lo, hi]:
    powers of ten when the range covers two or more, else 1-2-5 steps, else the two ends
    (two digits). Used by the drawings' legend and by `tinygrad_nd.viz_html` (legend and
    curve axis).

    Parameters
    ----------
    lo, hi : float
        The ends of the range as log10 of the values (e.g. -3.2 for 0.00063); no ticks when
        `hi < lo`.
    most : int, default 6
        At most about this many ticks: every second (third...) one is kept when more fit.

    Returns
    -------
    list of float
        The tick values themselves (not their logs), increasing.

    Examples
    --------
    >>> legend_ticks(-3.2, 0.1)
    [0.001, 0.01, 0.1, 1.0]
    >>> legend_ticks(-3.0, -2.2)
    [0.001, 0.002, 0.005]
    """
    if hi < lo:
        return []
    for mantissas in ((1.0,), (1.0, 2.0, 5.0)):
        ticks = [m * 10.0 ** e for e in range(math.floor(lo), math.ceil(hi) + 1)
                 for m in mantissas if lo - 1e-9 <= math.log10(m) + e <= hi + 1e-9]
        if len(ticks) >= 2:
            step = math.ceil(len(ticks) / most)
            return ticks[::step]
    ends = {float(f"{10.0 ** v:.2g}") for v in (lo, hi)}
    return sorted(ends)


def _legend(lo: float, hi: float) -> list[str]:
    lines = ['subgraph cluster_legend { label="legend"; fontsize=10; style=dashed;',
             'rankdir=LR; node [fontsize=9];']
    for kind in ("input", "param", "op", "output"):
        lines.append(f'legend_{kind} [label="{kind}", {STYLE[kind]}];')
    ticks = legend_ticks(lo, hi)
    if ticks:
        cells = []
        for v in ticks:
            fill, font = _colour(v, lo, hi)
            cells.append(f'<TD BGCOLOR="{fill}"><FONT COLOR="{font}">{plain_number(v)}</FONT></TD>')
        lines.append('legend_bar [shape=plaintext, label=<<TABLE BORDER="0" CELLSPACING="0">'
                     f'<TR><TD COLSPAN="{len(ticks)}">‖grad‖ (log scale, viridis)</TD></TR>'
                     f'<TR>{"".join(cells)}</TR></TABLE>>];')
    lines.append("}")
    return lines


def _node_line(nid: str, title: str, t: Tensor, kind: str, norm: float | None,
               lo: float, hi: float, extra: str = "") -> str:
    style = STYLE[kind]
    if norm is not None:
        fill, font = _colour(norm, lo, hi)
        style += f', fillcolor="{fill}", fontcolor="{font}"'
    return f'{nid} [label={_label(title, t, norm)}, {style}{extra}, tooltip="{_shape(t)}"];'



def norm_range(norms: dict[int, float]) -> tuple[float, float] | None:
    """(smallest, largest) of the positive, finite gradient norms, or None when there are
    none: what a drawing's colour scale spans unless `vmin`/`vmax` fix it.

    Parameters
    ----------
    norms : dict of int -> float
        Gradient norms by tensor id, as `gradient_norms` returns them.
    """
    finite = [v for v in norms.values() if v > 0 and math.isfinite(v)]
    return (min(finite), max(finite)) if finite else None


def colour_range(norms: dict[int, float], grad_range: tuple[float, float] | None = None,
                 vmin: float | None = None, vmax: float | None = None) -> tuple[float, float]:
    """The log10 range (lo, hi) of the colour map: `grad_range` (log10) or `vmin`/`vmax`
    (plain gradient norms; either may be left to the data) or the data's own range.

    Parameters
    ----------
    norms : dict of int -> float
        Gradient norms by tensor id; their positive finite range is the default.
    grad_range : (float, float), optional
        A fixed range as log10 of the norms; not together with `vmin`/`vmax`.
    vmin, vmax : float, optional
        The ends as plain (positive, finite) gradient norms, `vmin <= vmax`.

    Raises
    ------
    ValueError
        For a non-positive or non-finite `vmin`/`vmax`, `vmin > vmax`, or both kinds given.
    """
    for name, value in (("vmin", vmin), ("vmax", vmax)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"viz: {name} must be a positive finite gradient norm (the colour "
                             f"scale is logarithmic), got {value!r}")
    if grad_range is not None and (vmin is not None or vmax is not None):
        raise ValueError(f"viz: give either grad_range (log10) or vmin/vmax (plain norms), not "
                         f"both; got grad_range={grad_range}, vmin={vmin}, vmax={vmax}")
    if grad_range is not None:
        return grad_range
    found = norm_range(norms) or (1.0, 1.0)
    low, high = vmin if vmin is not None else found[0], vmax if vmax is not None else found[1]
    if low > high:
        raise ValueError(f"viz: vmin must not exceed vmax, got vmin={low:g}, vmax={high:g} "
                         f"(the gradient norms span {found[0]:g} .. {found[1]:g})")
    return math.log10(low), math.log10(high)
