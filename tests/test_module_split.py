"""Files split by concept keep their old import paths and their API documentation.

`nn/functional.py` gave its losses to `nn/loss_functional.py` and
`nn/class_loss_functional.py`, `viz.py` its colour scale to `viz_style.py` and its gradient
norms to `viz_norms.py`, `reshaping.py` its triangles and diagonals to `diagonals.py`. Every
name those three modules defined or re-exported before the split (frozen below) must still
be importable from them, and every public one must still be rendered on an API page.
"""

import importlib
import inspect
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The names each module defined or deliberately re-exported (marked noqa F401) before the
# split; the modules it merely imported for its own use (numpy, typing...) are left out.
BEFORE_THE_SPLIT = {
    "tinygrad_nd.nn.functional": """
        REDUCTIONS _as_target _check_same_shape _class_indices _class_targets _class_weight
        _constant_weight _cross_entropy_probabilities _float_target _not_indices
        _quadratic_then_linear _reduce _reduce_weighted _rows_of_classes _target_shape
        _weighted _weighted_nll batch_norm binary_cross_entropy
        binary_cross_entropy_with_logits check_batch_norm_args check_probability
        cosine_similarity cross_entropy dropout huber_loss kl_div l1_loss linear
        margin_ranking_loss mse_loss nll_loss relu sigmoid smooth_l1_loss tanh
        _real_in adaptive_avg_pool1d adaptive_avg_pool2d adaptive_max_pool2d avg_pool1d
        avg_pool2d avg_pool3d cat conv1d conv2d conv3d conv_transpose1d conv_transpose2d
        conv_transpose3d convolution interpolate log_softmax max_pool1d max_pool2d max_pool3d
        max_unpool1d max_unpool2d max_unpool3d pad softmax stack where
        celu check_gelu_approximate elu gelu glu hardsigmoid hardswish hardtanh leaky_relu
        logsigmoid mish relu6 selu silu softmin softplus softsign threshold
        embedding group_norm instance_norm layer_norm scaled_dot_product_attention
    """,
    "tinygrad_nd.viz": """
        Graph GraphvizMissingWarning INSTALL_HINT STYLE Snapshot _colour _groups _label
        _legend _nested_clusters _node_line _plain_labels _recorded_norms _shape
        _write_frames collect colour_range dot_lines draw_graph draw_model draw_snapshots
        gradient_norms legend_ticks norm_range plain_number record_grads recorded_norm
        renderer save_side_by_side snapshot to_dot trace
    """,
    "tinygrad_nd.reshaping": """
        PAD_MODES _along _counts _crop _diagonal_positions _dims _new _triangle _two_dims
        chunk diag_embed diagonal flip moveaxis movedim narrow pad repeat repeat_interleave
        roll swapaxes swapdims tile tril triu unbind unflatten
    """,
}
CASES = [(module, name) for module, names in BEFORE_THE_SPLIT.items()
         for name in names.split()]


def test_every_name_from_before_the_split_is_still_importable():
    missing = [f"{module}.{name}" for module, name in CASES
               if not hasattr(importlib.import_module(module), name)]
    assert not missing, f"no longer importable: {missing}"


def rendered_modules() -> set[str]:
    """The modules the API pages render with a mkdocstrings `::: module` directive."""
    return {m for page in (ROOT / "docs" / "api").glob("*.md")
            for m in re.findall(r"^::: ([\w.]+)\s*$", page.read_text(), re.M)}


def test_every_public_function_keeps_a_place_in_the_api_pages():
    """A moved function is rendered under the module that now defines it: that module needs
    its own `:::` directive (re-exports are not rendered under the old module)."""
    shown = rendered_modules()
    lost = {}
    for module, name in CASES:
        obj = getattr(importlib.import_module(module), name)
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__ not in shown:
            lost[f"{module}.{name}"] = obj.__module__
    assert not lost, f"public names whose home module no API page renders: {lost}"

