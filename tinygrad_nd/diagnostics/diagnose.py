"""`diagnose`: one call that gives each layer a verdict, the numbers behind it and a
plain-language explanation; `layer_gains`: the backward factor of each layer, term by term.

In a chain of layers the gradient reaching layer l is (Nielsen's eq. BP2, unrolled)
`delta^l = S'(z^l) (W^{l+1})^T S'(z^{l+1}) ... (W^L)^T S'(z^L) grad_a C`: every layer
multiplies the gradient by a factor `(W^{l+1})^T S'(z^l)`. `layer_gains` measures each
factor's effect on the actual gradient and its largest possible gain (power iteration through
the autograd), and splits it into the mean activation slope `S'(z)` and `||W||`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import autograd, engine
from ..nn.activation import Activation, ReLU, Sigmoid, Tanh
from ..nn.module import Module
from ..tensor import Tensor
from .display import html_table
from .layers import activation_slope, mlp_layer_names, weighted_layers
from .monitors import GradientMonitor, saturation
from .norms import l2_norm

SATURATING = (Sigmoid, Tanh)  # bounded activations whose slope goes to 0 at both ends


@dataclass
class LayerReport:
    """Verdict and numbers for one weighted layer.

    Parameters
    ----------
    name : str
        The layer's dotted name in the model, e.g. `"2"`.
    kind : str
        The layer's class name, e.g. `"Linear"`.
    verdict : str
        `nan`, `exploding`, `vanishing`, `dead`, `saturated` or `healthy`.
    numbers : dict
        The measurements behind the verdict: `grad_norm` (`||dC/db||`), `ratio_to_last`,
        and for a layer followed by an activation `mean_slope`, `saturated`, `dead`.
    explanation : str
        Why, in words (empty for a healthy layer).
    """

    name: str
    kind: str
    verdict: str
    numbers: dict[str, float] = field(default_factory=dict)
    explanation: str = ""


@dataclass
class Diagnosis:
    """Result of `diagnose`: one `LayerReport` per weighted layer.

    Parameters
    ----------
    layers : list of LayerReport
        One report per weighted layer, input side first.
    """

    layers: list[LayerReport]

    @property
    def healthy(self) -> bool:
        """True when every layer is healthy."""
        return all(r.verdict == "healthy" for r in self.layers)

    def verdicts(self) -> dict[str, str]:
        """Layer name -> verdict."""
        return {r.name: r.verdict for r in self.layers}

    def _repr_html_(self) -> str:
        """In Jupyter: the verdicts as a table, the explanations below it."""
        rows = [[r.name, r.kind, r.verdict, r.numbers["grad_norm"], r.numbers["ratio_to_last"],
                 r.numbers.get("mean_slope", float("nan")),
                 r.numbers.get("saturated", float("nan")), r.numbers.get("dead", float("nan"))]
                for r in self.layers]
        notes = "".join(f"<li><b>{html.escape(r.name)}</b>: {html.escape(r.explanation)}</li>"
                        for r in self.layers if r.explanation)
        return (html_table(["layer", "kind", "verdict", "||dC/db||", "vs last", "mean slope",
                            "saturated", "dead"], rows, "diagnose()")
                + (f"<ul>{notes}</ul>" if notes else ""))

    def __str__(self) -> str:
        lines = [f"{'layer':<10}{'kind':<10}{'verdict':<11}{'||dC/db||':>11}{'vs last':>10}"
                 f"{'slope':>8}{'sat.':>7}{'dead':>7}"]
        for r in self.layers:
            n = r.numbers
            lines.append(f"{r.name:<10}{r.kind:<10}{r.verdict:<11}{n['grad_norm']:>11.3g}"
                         f"{n['ratio_to_last']:>10.3g}{n.get('mean_slope', np.nan):>8.3f}"
                         f"{n.get('saturated', np.nan):>7.2f}{n.get('dead', np.nan):>7.2f}")
        lines += [f"  {r.name}: {r.explanation}" for r in self.layers if r.explanation]
        return "\n".join(lines)


def _activation_after(model: Module) -> dict[int, tuple[Module, Module]]:
    """Map each weighted module (by id) to the activation module that follows it in
    registration order, if any; (weighted, activation) pairs."""
    order = [m for _, m in model.named_modules()]
    pairs = {}
    for i, m in enumerate(order):
        if "weight" in m._parameters:
            for nxt in order[i + 1:]:
                if "weight" in nxt._parameters and not type(nxt).__name__.startswith("BatchNorm"):
                    break
                if isinstance(nxt, Activation):
                    pairs[id(m)] = (m, nxt)
                    break
    return pairs


def diagnose(model: Module, batch: tuple[Any, Any], loss_fn: Callable[[Tensor, Any], Tensor],
             vanish_ratio: float = 0.1, explode_ratio: float = 10.0, vanish_abs: float = 1e-8,
             explode_abs: float = 1e3, saturated: float = 0.5, dead: float = 0.5) -> Diagnosis:
    """Run one forward/backward pass on `batch` and give each weighted layer a verdict:
    `nan`, `exploding`, `vanishing`, `dead`, `saturated` or `healthy`.

    A layer vanishes when its `||dC/db||` is below `vanish_ratio` times the last layer's
    (or below `vanish_abs`), and explodes above `explode_ratio` times (or `explode_abs`).
    The model's `.grad` fields are left untouched.

    Parameters
    ----------
    model : Module
        The model; its weighted layers (those with a `weight`) get a verdict each.
    batch : tuple
        `(x, target)`: the model's input (array or Tensor) and what `loss_fn` compares the
        output with.
    loss_fn : callable
        `loss_fn(output, target)` returns a scalar Tensor.
    vanish_ratio, explode_ratio : float
        Thresholds on a layer's `||dC/db||` relative to the last layer's.
    vanish_abs, explode_abs : float
        Thresholds on a layer's `||dC/db||` itself.
    saturated : float
        Largest healthy fraction of saturated units in the activation after the layer.
    dead : float
        Largest healthy fraction of dead (always zero) ReLU units after the layer.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd import nn
    >>> from tinygrad_nd.diagnostics import diagnose
    >>> net = nn.Sequential(nn.Linear(4, 8, init="kaiming_normal"), nn.ReLU(), nn.Linear(8, 3))
    >>> report = diagnose(net, (tg.randn(64, 4), tg.randint(0, 3, (64,))),
    ...                   nn.functional.cross_entropy)
    >>> sorted(set(report.verdicts().values())) in (["healthy"], ["dead"], ["vanishing"])
    True
    """
    x, y = batch
    x = x if isinstance(x, Tensor) else Tensor(x)
    pairs = _activation_after(model)
    captured: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    handles = []
    for weighted, act in pairs.values():
        handles.append(act.register_forward_hook(_store_activation(captured, id(weighted))))
    monitor = GradientMonitor(model)
    try:
        loss = loss_fn(model(x), y)
        params = list(model.parameters())
        engine.grad(loss, params, allow_unused=True)
    finally:
        monitor.remove()
        for h in handles:
            h.remove()
    h = monitor.history
    grad = np.where(np.isnan(h["bias_grad"][0]), h["weight_grad"][0], h["bias_grad"][0])
    reports = []
    for i, (name, module) in enumerate(zip(monitor.layers, monitor.modules)):
        numbers = {"grad_norm": float(grad[i]), "ratio_to_last": float(grad[i] / grad[-1]),
                   "weight_norm": spectral_norm(module.weight.data)}
        act = pairs.get(id(module))
        if id(module) in captured and act is not None:
            z, a = captured[id(module)]
            numbers["mean_slope"] = float(activation_slope(act[1], z).mean())
            numbers["saturated"] = saturation(act[1], a) if isinstance(act[1], SATURATING) else 0.0
            numbers["dead"] = saturation(act[1], a) if isinstance(act[1], ReLU) else 0.0
        verdict = _verdict(numbers, vanish_ratio, explode_ratio, vanish_abs, explode_abs,
                           saturated, dead)
        reports.append(LayerReport(name, type(module).__name__, verdict, numbers))
    for i, r in enumerate(reports):
        r.explanation = _explain(r, reports[i + 1:], act_name=_act_name(pairs, monitor, i))
    return Diagnosis(reports)


def _store_activation(store: dict[int, Any], key: int) -> Callable[..., None]:
    """A forward hook that keeps an activation's input z and output a (float64) under key."""
    def hook(module: Module, inputs: tuple[Any, ...], out: Tensor) -> None:
        store[key] = (inputs[0].data.astype(np.float64), out.data.astype(np.float64))
    return hook


def _act_name(pairs: dict[int, Any], monitor: GradientMonitor, i: int) -> str:
    act = pairs.get(id(monitor.modules[i]))
    return type(act[1]).__name__ if act else ""


def _verdict(n: dict[str, float], vanish_ratio: float, explode_ratio: float, vanish_abs: float,
             explode_abs: float, saturated: float, dead: float) -> str:
    if not np.isfinite(n["grad_norm"]) or not np.isfinite(n["ratio_to_last"]):
        return "nan"
    if n["grad_norm"] > explode_abs or n["ratio_to_last"] > explode_ratio:
        return "exploding"
    if n["grad_norm"] < vanish_abs or n["ratio_to_last"] < vanish_ratio:
        return "vanishing"
    if n.get("dead", 0.0) > dead:
        return "dead"
    if n.get("saturated", 0.0) > saturated:
        return "saturated"
    return "healthy"


def _explain(r: LayerReport, later: list[LayerReport], act_name: str) -> str:
    n = r.numbers
    if r.verdict == "healthy":
        return ""
    if r.verdict == "nan":
        return ("its gradient is NaN/inf; run the step inside diagnostics.grad_health(model) to "
                "find the op where it first appears")
    if r.verdict in ("dead", "saturated"):
        frac = n.get("dead" if r.verdict == "dead" else "saturated", 0.0)
        what = "ReLU units output 0 for the whole batch" if r.verdict == "dead" else \
            f"{act_name} outputs are within 1e-2 of their bounds"
        return f"{frac:.0%} of its {what}, so their slope is ~0 and no gradient passes them"
    depth = len(later)
    per_layer = n["ratio_to_last"] ** (1.0 / depth) if depth else float("nan")
    direction = "shrinks" if r.verdict == "vanishing" else "grows"
    slopes = [x.numbers.get("mean_slope") for x in [r, *later[:-1]] if "mean_slope" in x.numbers]
    weights = [x.numbers["weight_norm"] for x in later]
    slope, weight = (float(np.mean(slopes)) if slopes else float("nan"),
                     float(np.mean(weights)) if weights else float("nan"))
    if r.verdict == "vanishing":
        culprits = [c for c, small in (("the activation slope S'(z)", slope < 0.5),
                                       ("the weight norm", weight < 1.0)) if small]
    else:
        culprits = [c for c, big in (("the weight norm", weight > 1.0),
                                     ("the activation slope S'(z)", slope > 1.0)) if big]
    cause = " and ".join(culprits) if culprits else "their product"
    return (f"gradient is {n['ratio_to_last']:.3g}x the last layer's: it {direction} by "
            f"~{per_layer:.3g}x per layer over {depth} layer(s); mean S'(z) = {slope:.3g}"
            f"{' (sigmoid max 0.25)' if act_name == 'Sigmoid' else ''}, mean ||W||_2 of the "
            f"layers above = {weight:.3g}; the main factor is {cause}")


def layer_gains(model: Module, x: Any, upstream: Tensor | None = None,
                iterations: int = 20, seed: int = 0) -> list[dict[str, float]]:
    """For each pair of consecutive weighted layers (l, l+1) with an activation between,
    the backward factor `J = d z^{l+1} / d z^l = W^{l+1} S'(z^l)` of the pre-activations:

    * `realized`: `||J^T delta^{l+1}|| / ||delta^{l+1}||` for the actual gradient
      `delta^{l+1} = dC/dz^{l+1}` of `sum(output * upstream)` (random `upstream` by
      default): how much this layer shrinks or grows the gradient it receives;
    * `spectral`: the largest possible gain `||J||_2` over the batch, by power iteration
      with vector-Jacobian products (J v is obtained as a VJP of a VJP);
    * `mean_slope` and `weight_norm` (spectral norm of W^{l+1}): the two terms.

    Layers are named as `GradientMonitor` names them: `layer` and `next` are the chapter's
    `"hidden 1"` .. `"output"` for a fully connected net (module paths otherwise), and
    `path` and `next_path` keep the module paths (`"0"`, `"2"`, ...).

    Parameters
    ----------
    model : Module
        The model (its weighted layers, each followed by an activation but the last).
    x : array or Tensor
        A batch of inputs.
    upstream : Tensor, optional
        The gradient arriving at the output (default: random normal, from `seed`).
    iterations : int
        Power-iteration steps for `spectral`.
    seed : int
        Seed of the random `upstream` and of the power iteration's start.

    Examples
    --------
    >>> from tinygrad_nd import nn, randn
    >>> net = nn.mlp([4, 3, 3, 2], activation="sigmoid")
    >>> [(g["layer"], g["next"], g["path"]) for g in layer_gains(net, randn(5, 4))]
    [('hidden 1', 'hidden 2', '0'), ('hidden 2', 'output', '2')]
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    pairs = list(_activation_after(model).values())
    found = weighted_layers(model)
    later = [m for _, m in found]
    outputs: dict[int, Tensor] = {}
    activations: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def keep_output(module: Module, inputs: tuple[Any, ...], out: Tensor) -> None:
        outputs[id(module)] = out

    handles = [w.register_forward_hook(keep_output) for w in later]
    handles += [a.register_forward_hook(_store_activation(activations, id(w))) for w, a in pairs]
    try:
        with autograd.enable_grad():
            out = model(x.detach())
    finally:
        for h in handles:
            h.remove()
    names = dict(zip((id(m) for _, m in found),
                     mlp_layer_names(found) or [path for path, _ in found]))
    paths = {id(m): path for path, m in found}
    rng = np.random.default_rng(seed)
    upstream = upstream if upstream is not None else Tensor(rng.standard_normal(out.shape),
                                                           dtype=out.dtype)
    gains = []
    for w, act in pairs:
        if id(w) not in names:  # a weight slot left empty (e.g. a non-affine norm)
            continue
        nxt = later[later.index(w) + 1] if later.index(w) + 1 < len(later) else None
        if nxt is None or id(nxt) not in outputs:
            continue
        z, z_next = outputs[id(w)], outputs[id(nxt)]
        (delta_next,) = engine.grad(out, z_next, upstream, retain_graph=True)
        (back,) = engine.grad(z_next, z, delta_next, retain_graph=True)
        realized = l2_norm(back) / max(l2_norm(delta_next), 1e-300)
        u = Tensor(rng.standard_normal(z_next.shape), dtype=z_next.dtype, requires_grad=True)
        v = Tensor(rng.standard_normal(z.shape), dtype=z.dtype)
        sigma = 0.0
        for _ in range(iterations):
            (jt_u,) = engine.grad(z_next, z, u, retain_graph=True, create_graph=True)
            (j_v,) = engine.grad((jt_u * v).sum(), u, retain_graph=True)  # J v
            (jt_jv,) = engine.grad(z_next, z, j_v, retain_graph=True)       # J^T J v
            sigma = np.sqrt(l2_norm(jt_jv) / max(l2_norm(v), 1e-300))
            v = Tensor(jt_jv.data / max(l2_norm(jt_jv), 1e-300), dtype=z.dtype)
        gains.append({"layer": names[id(w)], "next": names[id(nxt)],
                      "path": paths[id(w)], "next_path": paths[id(nxt)],
                      "realized": realized, "spectral": float(sigma),
                      "mean_slope": float(activation_slope(act, activations[id(w)][0]).mean()),
                      "weight_norm": spectral_norm(nxt.weight.data)})
    return gains


def spectral_norm(weight: np.ndarray) -> float:
    """Largest singular value of a weight viewed as (out, everything else).

    Parameters
    ----------
    weight : array
        A layer's weight, e.g. (out, in) or (out, in, kh, kw); NaN if it is not finite.
    """
    w = np.asarray(weight, dtype=np.float64)
    if not np.isfinite(w).all():
        return float("nan")
    return float(np.linalg.norm(w.reshape(w.shape[0], -1), 2)) if w.ndim > 1 else float(
        np.abs(w).max())
