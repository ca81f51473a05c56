"""Vanishing and exploding gradients through time: a tanh RNN against an LSTM and a GRU.

A recurrent net is a deep net whose layers share one weight matrix: the gradient that reaches
the state h_t from a loss at step T is a product of T - t Jacobians
`dh_s/dh_(s-1) = diag(tanh'(.)) W_hh` for the RNN. Pascanu, Mikolov & Bengio (2013) show it
must vanish when W_hh's largest singular value is below 1 (as tanh' <= 1) and can explode only
when it is above 1; over many steps the spectral radius sets the rate. The LSTM (Hochreiter &
Schmidhuber 1997) and the GRU (Cho et al. 2014) carry their state along an additive path whose
factor per step is a gate (the forget gate f, the GRU's update gate z), so the gradient lasts
as long as that gate stays near 1.

The task is a one-symbol copy task with a silent delay (Bengio, Simard & Frasconi 1994's
information latching; Hochreiter & Schmidhuber 1997, experiment 2): the first input is a
random bit (+1 or -1), the next `length - 1` inputs are zeros (or noise with `noise`),
and the net must output the bit after the last step. Chance is 50%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..ops.activation import stable_sigmoid
from .common import Report, finish, progress, pyplot, set_progress
from .recurrent import (
    KINDS,
    SequenceClassifier,
    accuracy,
    copy_task,
    spectral_radius,
    state_gradients,
    train,
)


@dataclass
class ThroughTimeConfig:
    """Settings of `run_through_time` (defaults: a run of about a minute).

    Attributes
    ----------
    hidden : int, default 16
        Hidden size of every recurrent net.
    gradient_length : int, default 100
        Sequence length T of the gradient measurements at initialisation.
    lengths : tuple of int, default (10, 30, 60)
        Copy-task lengths each kind is trained on.
    steps : int, default 250
        Adam steps of each training run.
    train_seeds : int, default 2
        Seeds each (kind, length) is trained from.
    workers : int, default 2
        Processes the training runs are spread over (1: in this process); the numbers do not
        depend on it.
    batch : int, default 32
        Sequences per training batch.
    lr : float, default 0.01
        Adam's learning rate.
    gate_bias : float, default 2.0
        Forget (LSTM) / update (GRU) gate bias of the gated nets that start open.
    noise : float, default 0.0
        Standard deviation of the copy task's distractors.
    seeds : int, default 3
        Seeds of the measurements at initialisation.
    radius : float, default 4.0
        Spectral radius of W_hh of the tanh RNN in the clipping part (large: it explodes).
    clip : float, default 1.0
        The gradient-norm clipping threshold of that part.
    clip_lr : float, default 0.1
        Its plain SGD learning rate.
    clip_length : int, default 30
        Its sequence length.
    clip_steps : int, default 100
        Its SGD steps.
    seed : int, default 0
        The first seed of every part.
    """

    hidden: int = 16
    gradient_length: int = 100
    lengths: tuple[int, ...] = (10, 30, 60)
    steps: int = 250
    train_seeds: int = 2
    workers: int = 2
    batch: int = 32
    lr: float = 0.01
    gate_bias: float = 2.0
    noise: float = 0.0
    seeds: int = 3
    radius: float = 4.0
    clip: float = 1.0
    clip_lr: float = 0.1
    clip_length: int = 30
    clip_steps: int = 100
    seed: int = 0


def _variants(gate_bias: float) -> dict[str, tuple[str, float]]:
    """Label -> (kind, gate_bias) of the nets compared at initialisation."""
    return {"RNN (tanh)": ("RNN", 0.0),
            "LSTM, PyTorch init": ("LSTM", 0.0),
            f"LSTM, forget bias +{gate_bias:g}": ("LSTM", gate_bias),
            "GRU, PyTorch init": ("GRU", 0.0),
            f"GRU, update bias +{gate_bias:g}": ("GRU", gate_bias)}


def gradients_at_init(cfg: ThroughTimeConfig) -> dict[str, dict[str, Any]]:
    """Per variant: ‖∂L/∂h_t‖ (geometric mean over seeds) and ‖∂L/∂h_0‖/‖∂L/∂h_T‖ per seed.

    Parameters
    ----------
    cfg : ThroughTimeConfig
        The settings (hidden size, lengths, seeds, ...).
    """
    out = {}
    for label, (kind, bias) in _variants(cfg.gate_bias).items():
        curves, radii, norms = [], [], []
        for seed in range(cfg.seed, cfg.seed + cfg.seeds):
            x, y = copy_task(64, cfg.gradient_length, np.random.default_rng(seed), cfg.noise)
            model = SequenceClassifier(kind, cfg.hidden, bias, seed=seed)
            curves.append(state_gradients(model, x, y))
            if kind == "RNN":  # (the gated nets' W_hh stack one matrix per gate)
                radii.append(spectral_radius(model.rnn.weight_hh_l0.data))
                norms.append(float(np.linalg.norm(model.rnn.weight_hh_l0.data, 2)))
        curves = np.array(curves)
        ratios = curves[:, 0] / curves[:, -1]
        out[label] = {"kind": kind, "gate_bias": bias,
                      "curve": np.exp(np.log(curves).mean(axis=0)).tolist(),
                      "first_over_last": ratios.tolist(),
                      "factor_per_step": _geomean(ratios ** (1 / cfg.gradient_length)),
                      "spectral_radius_w_hh": float(np.mean(radii)) if radii else None,
                      "largest_singular_value_w_hh": float(np.mean(norms)) if norms else None}
    return out


def radius_scan(cfg: ThroughTimeConfig, radii: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5,
                                                                     2.0, 3.0, 4.0, 6.0)
                ) -> dict[str, Any]:
    """‖∂L/∂h_0‖/‖∂L/∂h_T‖ of the tanh RNN at init against the spectral radius of W_hh.

    Parameters
    ----------
    cfg : ThroughTimeConfig
        The settings (hidden size, lengths, seeds, ...).
    radii : tuple of float, default (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)
        The spectral radii W_hh is rescaled to.
    """
    ratios = []
    for radius in radii:
        row = []
        for seed in range(cfg.seed, cfg.seed + cfg.seeds):
            x, y = copy_task(64, cfg.gradient_length, np.random.default_rng(seed), cfg.noise)
            g = state_gradients(SequenceClassifier("RNN", cfg.hidden, radius=radius, seed=seed),
                                x, y)
            row.append(float(g[0] / g[-1]))
        ratios.append(row)
    return {"radii": list(radii), "first_over_last": ratios}


def train_cell(kind: str, length: int, seed: int, cfg: ThroughTimeConfig) -> dict[str, Any]:
    """Train one net (gated ones with `cfg.gate_bias`) with Adam on one length; its test
    accuracy, final loss and ‖∂L/∂h_t‖ after training (on fresh sequences of that length).

    Parameters
    ----------
    kind : {"RNN", "LSTM", "GRU"}
        The recurrent layer.
    length : int
        The copy task's sequence length.
    seed : int
        Seed of the initial weights and of the training batches (test batches use seed + 1
        and seed + 2).
    cfg : ThroughTimeConfig
        The settings (hidden size, lengths, seeds, ...).
    """
    model = SequenceClassifier(kind, cfg.hidden, 0.0 if kind == "RNN" else cfg.gate_bias,
                               seed=seed)
    log = train(model, length, cfg.steps, optim.Adam(model.parameters(), lr=cfg.lr),
                np.random.default_rng(seed), cfg.batch, cfg.noise, desc=f"{kind} T={length}")
    x, y = copy_task(64, length, np.random.default_rng(seed + 2), cfg.noise)
    return {"accuracy": accuracy(model, length, np.random.default_rng(seed + 1),
                                 noise=cfg.noise),
            "final_loss": float(np.mean(log["loss"][-20:])),
            "gradients_after": state_gradients(model, x, y).tolist(),
            "cell_gradients_after": (state_gradients(model, x, y, cell=True).tolist()
                                     if kind == "LSTM" else None)}


def _train_cell_quietly(args: tuple[str, int, int, ThroughTimeConfig]) -> dict[str, Any]:
    set_progress(False)  # (in a worker process: one bar, the parent's, is enough)
    return train_cell(*args)


def accuracy_against_length(cfg: ThroughTimeConfig) -> dict[str, Any]:
    """Every kind at every length for `cfg.train_seeds` seeds, in `cfg.workers`
    processes (each cell is seeded, so the numbers do not depend on the number of workers).

    Parameters
    ----------
    cfg : ThroughTimeConfig
        The settings (hidden size, lengths, seeds, ...).
    """
    seeds = range(cfg.seed, cfg.seed + cfg.train_seeds)
    cells = [(kind, length, seed, cfg) for kind in KINDS for length in cfg.lengths
             for seed in seeds]
    if cfg.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(cfg.workers) as pool:
            done = list(progress(pool.map(_train_cell_quietly, cells), total=len(cells),
                                 desc="training", unit="net"))
    else:
        done = [train_cell(*cell) for cell in cells]
    cell = dict(zip(((kind, length, seed) for kind, length, seed, _ in cells), done))
    results: dict[str, Any] = {}
    for kind in KINDS:
        accuracies = [[cell[kind, n, s]["accuracy"] for s in seeds] for n in cfg.lengths]
        results[kind] = {
            "gate_bias": 0.0 if kind == "RNN" else cfg.gate_bias,
            "accuracy": accuracies, "mean_accuracy": [float(np.mean(a)) for a in accuracies],
            "final_loss": [[cell[kind, n, s]["final_loss"] for s in seeds] for n in cfg.lengths],
            **{key: cell[kind, max(cfg.lengths), cfg.seed][key]
               for key in ("gradients_after", "cell_gradients_after")}}
    return results


def clipping_runs(cfg: ThroughTimeConfig) -> dict[str, Any]:
    """The RNN with W_hh at spectral radius `cfg.radius`, trained by plain SGD on the same
    batches without and with gradient-norm clipping.

    Parameters
    ----------
    cfg : ThroughTimeConfig
        The settings (hidden size, lengths, seeds, ...).
    """
    runs = {}
    for name, clip in (("plain SGD", None), (f"SGD + clip {cfg.clip:g}", cfg.clip)):
        model = SequenceClassifier("RNN", cfg.hidden, radius=cfg.radius, seed=cfg.seed)
        log = train(model, cfg.clip_length, cfg.clip_steps,
                    optim.SGD(model.parameters(), lr=cfg.clip_lr),
                    np.random.default_rng(cfg.seed), cfg.batch, cfg.noise, clip, desc=name)
        with np.errstate(all="ignore"):
            acc = accuracy(model, cfg.clip_length, np.random.default_rng(cfg.seed + 1),
                           noise=cfg.noise)
        runs[name] = {"clip": clip, "accuracy": acc, **log}
    return runs


def _sigmoid(z: float) -> float:
    return float(stable_sigmoid(np.asarray(z, dtype=np.float64)))


def _geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values))))


def run_through_time(out: str | Path = "reports/through-time",
                     cfg: ThroughTimeConfig | None = None, verbose: bool = True
                     ) -> dict[str, Any]:
    """Run the three parts, write `report.md` with figures to `out`; return the numbers.

    Parameters
    ----------
    out : str or Path, default "reports/through-time"
        The folder for `report.md`, `results.json` and the figures (created if needed).
    cfg : ThroughTimeConfig, optional
        The settings; `ThroughTimeConfig()` by default.
    verbose : bool, default True
        Print the report's tables and its path when done.
    """
    cfg = cfg or ThroughTimeConfig()
    report = Report(Path(out), "Vanishing and exploding gradients through time")
    at_init = gradients_at_init(cfg)
    scan = radius_scan(cfg)
    sweep = accuracy_against_length(cfg)
    after = {kind: sweep[kind]["gradients_after"] for kind in KINDS}
    after["LSTM cell c_t"] = sweep["LSTM"]["cell_gradients_after"]
    clipping = clipping_runs(cfg)
    results = {"config": asdict(cfg), "at_init": at_init, "radius_scan": scan,
               "accuracy": sweep, "clipping": clipping}

    ratio = {label: _geomean(v["first_over_last"]) for label, v in at_init.items()}
    rnn, lstm0, lstm, gru0, gru = (ratio[label] for label in _variants(cfg.gate_bias))
    per_step = dict(zip(("rnn", "lstm0", "lstm", "gru0", "gru"),
                        (v["factor_per_step"] for v in at_init.values())))
    longest = max(cfg.lengths)
    acc = {kind: sweep[kind]["mean_accuracy"][-1] for kind in KINDS}
    plain, clipped = clipping.values()
    report.text(f"""
## What this shows
A recurrent net applies the same weights at every step, so the gradient that reaches an early
state is a product of one Jacobian per step: it shrinks (or grows) geometrically with the
distance, as the gradient of a deep sigmoid net shrinks with depth. At initialisation a tanh
RNN passes back {per_step['rnn']:.2f} of the gradient per step, so after
{cfg.gradient_length} steps only {rnn:.0e} of it reaches the first state; an LSTM and a GRU
at PyTorch's initialisation (gates near 0.5) pass back {per_step['lstm0']:.2f} and
{per_step['gru0']:.2f} per step ({lstm0:.0e}, {gru0:.0e}), and with their forget/update gate
opened by a bias of {cfg.gate_bias:g}, {per_step['lstm']:.2f} and {per_step['gru']:.2f}
({lstm:.0e}, {gru:.0e}): the open gate, not the name of the architecture, carries the
gradient. Trained with the same budget to remember one bit over {longest} steps, the RNN gets
{acc['RNN']:.0%}, the LSTM {acc['LSTM']:.0%} and the GRU {acc['GRU']:.0%} right (mean over
{cfg.train_seeds} seed(s); chance: 50%). With a recurrent matrix of spectral radius
{cfg.radius:g}, plain SGD meets gradient norms up to {np.nanmax(plain['grad_norm']):.3g} (median
{np.nanmedian(plain['grad_norm']):.3g}) and takes steps of length up to
{np.nanmax(plain['update_norm']):.3g}; clipping the norm to {cfg.clip:g} (Pascanu et al. 2013)
bounds every step by lr x {cfg.clip:g} = {cfg.clip_lr * cfg.clip:g}, and the two runs end at
{plain['accuracy']:.0%} (plain) and {clipped['accuracy']:.0%} (clipped) accuracy.
""")
    report.text(f"""
## Setup
Task: a one-symbol copy task. The first input is a random bit (+1 or -1), the other inputs are
{'N(0, ' + format(cfg.noise, 'g') + '^2) noise' if cfg.noise else 'zeros'}; after the last
step a linear read-out of the last state h_T must give the bit (binary cross-entropy on one
logit; chance 50%). Nets: one layer of `nn.RNN` (tanh), `nn.LSTM` or `nn.GRU` with
{cfg.hidden} hidden units, PyTorch's initialisation U(-1/sqrt(H), 1/sqrt(H)), float64. The
"gate bias" b is added to the bias of the LSTM's forget gate and subtracted from its input gate
(so a closed input gate does not fill the cell while the open forget gate keeps it), and added
to the GRU's update gate z (h' = (1 - z) n + z h): each then keeps a fraction sigmoid(b) =
{_sigmoid(cfg.gate_bias):.2f} of its state per step. ‖∂L/∂h_t‖ is read from the
autograd: the layer is stepped one input at a time through its `hx` argument and every state
calls `retain_grad()` (`tinygrad_nd.experiments.recurrent.state_gradients`). h_0 is the
initial state, h_1 the state that has just seen the bit. Reproduce with
`tinygrad-nd through-time --seed {cfg.seed}` (options: `--help`).
""")
    text = _init_section(report, cfg, at_init, scan)
    text += "\n\n" + _training_section(report, cfg, sweep, after)
    text += "\n\n" + _clipping_section(report, cfg, clipping)
    report.text(f"""
## How this differs from the sources
- Hochreiter & Schmidhuber (1997) trained LSTMs on the adding problem and on long-lag copy
  tasks for thousands to millions of sequences; to stay within a minute this run trains
  {cfg.steps} batches of {cfg.batch} on a one-bit copy task with lengths {list(cfg.lengths)}.
  Their LSTM had no forget gate: its cell kept its value with factor exactly 1 (the "constant
  error carousel"). The forget gate came with Gers, Schmidhuber & Cummins (2000); PyTorch's
  LSTM has one and starts it near 0.5, so an LSTM at PyTorch's initialisation loses the
  gradient about as fast as the RNN (first table). We open it with a bias (Gers et al. 2000,
  Jozefowicz et al. 2015 suggest +1) and close the input gate by the same amount, as
  chrono-initialisation does (Tallec & Ollivier 2018).
- Pascanu, Mikolov & Bengio (2013) write the recurrence as x_t = W_rec sigmoid(x_(t-1)) +
  W_in u_t + b, trained with SGD on Hochreiter & Schmidhuber's synthetic long-lag problems
  (adding, multiplication, temporal order, memorisation), added a soft constraint against
  vanishing gradients (not used here) and suggest a clipping threshold from the average
  gradient norm over many updates; here the recurrence is PyTorch's h_t = tanh(W_ih x_t +
  W_hh h_(t-1) + b) and the threshold is fixed; the clipping runs use plain SGD
  (lr {cfg.clip_lr:g}, threshold {cfg.clip:g}, length {cfg.clip_length}), while the accuracy
  sweep uses Adam (lr {cfg.lr:g}), whose per-parameter scaling partly hides a small gradient
  (it cannot recover one that has vanished below the others by many orders of magnitude).
- {cfg.train_seeds} training seed(s) per cell (from {cfg.seed}); accuracy on 1,000 fresh
  sequences. A small budget makes the outcome at the longest length depend on the seed
  (`--train-seeds 5 --steps 500` for a steadier picture).
""")
    return finish(report, results, text, verbose)


def _init_section(report: Report, cfg: ThroughTimeConfig, at_init: dict[str, Any],
                  scan: dict[str, Any]) -> str:
    report.text(f"""
## 1. ‖∂L/∂h_t‖ at initialisation, {cfg.gradient_length} steps
Loss at the last step only; {cfg.seeds} seeds (curves: geometric mean over seeds).
""")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    steps = np.arange(cfg.gradient_length + 1)
    for label, v in at_init.items():
        ax.semilogy(steps, v["curve"], label=label,
                    linestyle="-" if v["gate_bias"] or v["kind"] == "RNN" else "--")
    ax.set_xlabel("time step t (0 = initial state, T = last)")
    ax.set_ylabel("‖∂L/∂h_t‖")
    ax.set_title("Gradient reaching each state of the sequence, at initialisation")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    report.figure(fig, "gradient_at_init",
                  f"‖∂L/∂h_t‖ against t over {cfg.gradient_length} steps at initialisation")
    rows = [[label, f"{_geomean(v['first_over_last']):.2e}",
             f"{min(v['first_over_last']):.1e} .. {max(v['first_over_last']):.1e}",
             f"{v['factor_per_step']:.3f}",
             f"{_sigmoid(v['gate_bias']):.3f}" if v["kind"] != "RNN" else
             f"rho(W_hh) = {v['spectral_radius_w_hh']:.3f}"]
            for label, v in at_init.items()]
    text = report.table(["net", "‖∂L/∂h_0‖ / ‖∂L/∂h_T‖ (geometric mean)", "range over seeds",
                         "factor per step", "sigmoid(gate bias)"], rows)
    report.text("""
The factor per step is the T-th root of the first-to-last ratio. For the gated nets it follows
the gate's value at initialisation, sigmoid(b) (the rest of the cell adds a little); for the
RNN it follows the spectral radius of W_hh.
""")
    rnn = next(iter(at_init.values()))
    bound_note = ("so their condition alone guarantees the vanishing"
                  if rnn["largest_singular_value_w_hh"] < 1 else
                  "so their sufficient condition does not apply, yet the gradient vanishes")
    report.text(f"""
Why the RNN's gradient vanishes: PyTorch draws W_hh from U(-1/sqrt(H), 1/sqrt(H)); here its
spectral radius is {rnn['spectral_radius_w_hh']:.2f} on average (about 1/sqrt(3) for large H),
and tanh' <= 1, so each step backwards shrinks the gradient roughly by that factor: measured,
{rnn['factor_per_step']:.2f} per step (the T-th root of the first-to-last ratio).
Pascanu et al. prove that the gradient must vanish when the largest singular value of W_hh
is below 1 and can explode only when it is above 1. Here that singular value is
{rnn['largest_singular_value_w_hh']:.2f} on average, {bound_note}; over many steps it is the
spectral radius rho that sets the rate. Rescaling W_hh to a given rho shows the turn near
rho = 1: below it the gradient vanishes geometrically, above it the gradient can stay or
grow, as far as the saturating tanh (tanh' -> 0) lets it.
""")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    radii = np.array(scan["radii"])
    ratios = np.array(scan["first_over_last"])
    for seed in range(ratios.shape[1]):
        ax.semilogy(radii, ratios[:, seed], "o-", alpha=0.7, label=f"seed {cfg.seed + seed}")
    ax.axhline(1.0, color="gray", linestyle=":")
    ax.axvline(1.0, color="gray", linestyle=":")
    ax.set_xlabel("spectral radius rho of W_hh")
    ax.set_ylabel("‖∂L/∂h_0‖ / ‖∂L/∂h_T‖")
    ax.set_title(f"tanh RNN, {cfg.gradient_length} steps: vanishing below rho = 1")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    report.figure(fig, "radius_scan", "First-to-last gradient ratio against the spectral "
                  "radius of the recurrent matrix")
    text += "\n\n" + report.table(
        ["rho", *(f"seed {cfg.seed + s}" for s in range(ratios.shape[1]))],
        [[f"{r:g}", *(f"{v:.1e}" for v in row)] for r, row in zip(radii, ratios)])
    return text


def _training_section(report: Report, cfg: ThroughTimeConfig, sweep: dict[str, Any],
                      after: dict[str, list[float]]) -> str:
    longest = max(cfg.lengths)
    report.text(f"""
## 2. Accuracy against sequence length
Each net is trained from scratch at each length: {cfg.steps} steps of Adam (lr {cfg.lr:g}) on
fresh batches of {cfg.batch}; the LSTM and GRU with gate bias +{cfg.gate_bias:g}; seeds
{cfg.seed}..{cfg.seed + cfg.train_seeds - 1}. Accuracy on 1,000 fresh sequences (table: one
value per seed); chance is 50%.
""")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for kind, style in zip(KINDS, ("o-", "s--", "^:")):  # (styles: coinciding lines show)
        line, = ax.plot(cfg.lengths, sweep[kind]["mean_accuracy"], style, label=kind,
                        markersize=8 if style == "o-" else 5)
        for length, accuracies in zip(cfg.lengths, sweep[kind]["accuracy"]):
            ax.scatter([length] * len(accuracies), accuracies, color=line.get_color(),
                       marker="x", alpha=0.6)
    ax.axhline(0.5, color="gray", linestyle=":", label="chance")
    ax.set_xlabel("sequence length T (the bit is the first of T inputs)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.4, 1.02)
    ax.set_xticks(cfg.lengths)
    ax.set_title(f"Remembering one bit: {cfg.steps} Adam steps per net (x: each seed)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    report.figure(fig, "accuracy_vs_length", "Accuracy against sequence length")
    text = report.table(["net", *(f"T = {n}" for n in cfg.lengths)],
                        [[kind, *(" / ".join(f"{a:.0%}" for a in seeds)
                                  for seeds in sweep[kind]["accuracy"])] for kind in KINDS])
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for kind, curve in after.items():
        ax.semilogy(np.arange(len(curve)), curve, label=kind if " " in kind else f"{kind} h_t",
                    linestyle="--" if " " in kind else "-")
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂h_t‖ (LSTM cell: ‖∂L/∂c_t‖)")
    ax.set_title(f"After training at T = {longest} (seed {cfg.seed})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    report.figure(fig, "gradient_after_training",
                  f"‖∂L/∂h_t‖ of the nets trained at T = {longest}")
    last = after["RNN"][-1], after["LSTM"][-1], after["GRU"][-1]
    read_out = dict(zip([*KINDS, "LSTM cell c_t"], [*last, last[1]]))
    rows = [[kind, f"{curve[1] / read_out[kind]:.2e}",
             f"{(curve[1] / read_out[kind]) ** (1 / (longest - 1)):.3f}",
             " / ".join(f"{a:.0%}" for a in sweep[kind.split()[0]]["accuracy"][-1])]
            for kind, curve in after.items()]
    text += "\n\n" + report.table(
        [f"net (trained at T = {longest})", "‖∂L/∂s_1‖ / ‖∂L/∂h_T‖ (s = h, or the cell c)",
         "factor per step", "accuracy (seeds)"], rows)
    report.text(f"""
To answer, a net must carry the bit from step 1 to step T: the RNN and the GRU in h, the LSTM
in its cell c (its h_1 reaches the cell only through the gates, so ‖∂L/∂h_1‖ can stay small
even when the LSTM has learnt the task). Compare with the factors per step at initialisation
in section 1, over {longest - 1} steps here.
""")
    return text


def _clipping_section(report: Report, cfg: ThroughTimeConfig, clipping: dict[str, Any]) -> str:
    report.text(f"""
## 3. Exploding gradients and clipping by norm
The tanh RNN with W_hh rescaled to spectral radius {cfg.radius:g}, trained on length
{cfg.clip_length} with plain SGD (lr {cfg.clip_lr:g}, no momentum, so an update is exactly lr
times the gradient), on the same batches with and without
`nn.utils.clip_grad_norm_(parameters, {cfg.clip:g})`, which rescales the whole gradient g to
{cfg.clip:g} g/‖g‖ when ‖g‖ > {cfg.clip:g} (Pascanu et al. 2013, algorithm 1).
""")
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for name, run in clipping.items():
        steps = np.arange(1, len(run["loss"]) + 1)
        for ax, key in zip(axes, ("loss", "grad_norm", "update_norm")):
            ax.plot(steps, run[key], label=name)
    for ax, title in zip(axes, ("training loss", "gradient norm ‖g‖ (before clipping)",
                                "update norm ‖Δθ‖")):
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(True, which="both", alpha=0.3)
    axes[2].axhline(cfg.clip_lr * cfg.clip, color="gray", linestyle=":",
                    label=f"lr x clip = {cfg.clip_lr * cfg.clip:g}")
    axes[2].legend(fontsize=8)
    fig.suptitle(f"tanh RNN with spectral radius {cfg.radius:g}: plain SGD against clipped SGD")
    report.figure(fig, "clipping", "Loss, gradient norm and update norm with and without "
                  "clipping")
    rows = []
    for name, run in clipping.items():
        grads = np.array(run["grad_norm"])
        rows.append([name, f"{np.nanmedian(grads):.3g}", f"{np.nanmax(grads):.3g}",
                     f"{np.mean(grads > cfg.clip):.0%}", f"{np.nanmax(run['update_norm']):.3g}",
                     f"{np.mean(run['loss'][-10:]):.3g}", f"{run['accuracy']:.1%}"])
    text = report.table(["run", "median ‖g‖", "max ‖g‖", "steps with ‖g‖ > clip",
                         "max ‖Δθ‖", "final loss (last 10)", "accuracy"], rows)
    plain = clipping["plain SGD"]
    jump = int(np.nanargmax(plain["update_norm"]))
    later = np.array(plain["grad_norm"][jump + 1:])
    after = (f"; after it, its gradient norm has median {np.nanmedian(later):.3g}"
             if later.size else "")
    report.text(f"""
The plain run's longest step, {plain['update_norm'][jump]:.3g} at step {jump + 1}, is
{plain['update_norm'][jump] / (cfg.clip_lr * cfg.clip):.3g} times the clipped bound{after}.
Pascanu et al. picture an exploding gradient as a steep wall in the loss surface: a full
gradient step there jumps far across it, possibly into a flat region where learning stalls;
clipping keeps the step's direction and only shortens it. Accuracy counts the sign of the
logit only: a loss near ln 2 = 0.69 with a high accuracy means right answers given with little
confidence. One seed ({cfg.seed}); the numbers change with it.
""")
    return text
