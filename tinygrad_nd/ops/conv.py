"""N-d convolution on (N, C, *spatial) arrays, as strided windows plus one batched GEMM.

One implementation serves 1, 2 and 3 spatial dimensions: every helper takes the spatial rank
from its input. Convolution's two backward products are themselves registered ops
(`convolution_input_grad` and `convolution_weight_grad`), each the adjoint of
`convolution` in one argument, so the three close under differentiation and grad-of-grad
works through convolutions; the input-gradient op is also the transposed convolution.
No Python loop runs over pixels or channels; col2im loops over the kernel offsets, and some
batch-last copies over blocks of eight images or over channels.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..registry import register_op
from .batch_split import SPLIT_MIN_WORK, batch_chunks, run_chunks
from .blocked_gemm import matmul_in_blocks

Dims = tuple[int, ...]
Layout = Literal["batch_last", "per_image"]
BATCH_LAST: Layout = "batch_last"
PER_IMAGE: Layout = "per_image"

# Default of `batch_last_max_width`: outputs whose last spatial axis is at most this wide
# take the batch-last im2col. An NCHW im2col copies each window row as a run of OW values, and
# numpy's per-run overhead dominates for short rows; over a batch-last (C, *spatial, N) copy a
# run holds OW * N values (for stride 1). For wide outputs the extra transposes of the input
# and output cost more than the copy saves (docs/performance.md has the measurements).
BATCH_LAST_MAX_WIDTH = 12

# Default of `per_offset_max_bytes`: input gradients whose per-offset buffer (C x output
# positions x images) fits in this many bytes are computed one kernel offset at a time,
# where the buffer stays in a core's cache; bigger ones go through all the columns at once,
# which wins once the buffer outgrows the cache (docs/performance.md has the measurements).
PER_OFFSET_MAX_BYTES = 512 * 1024


def windows(xp: np.ndarray, kernel: Dims, stride: Dims, dilation: Dims, out: Dims) -> np.ndarray:
    """View of a padded (N, C, *spatial) array as (N, C, *out, *kernel) windows (no copy).

    Parameters
    ----------
    xp : ndarray, shape (N, C, *padded)
        The padded input.
    kernel : tuple of int
        The window's size per spatial axis.
    stride : tuple of int
        The step between windows per axis.
    dilation : tuple of int
        The spacing between a window's elements per axis.
    out : tuple of int
        The number of windows per axis (`output_size`).
    """
    lead, spatial = xp.strides[:2], xp.strides[2:]
    return as_strided(xp, xp.shape[:2] + tuple(out) + tuple(kernel),
                      lead + tuple(s * t for s, t in zip(spatial, stride))
                      + tuple(s * d for s, d in zip(spatial, dilation)), writeable=False)


def col2im(cols: np.ndarray, padded: Dims, stride: Dims, dilation: Dims) -> np.ndarray:
    """Adjoint of `windows`, on batch-last arrays: add each window entry back to its pixel.

    `cols` has the layout (C, *kernel, *out, N) and the result (C, *padded, N). Batch-last,
    because each kernel offset's block is then added in contiguous runs of OW * N values
    rather than OW (numpy's per-run overhead made the NCHW version twice as slow).

    Parameters
    ----------
    cols : ndarray, shape (C, *kernel, *out, N)
        Window entries, batch last.
    padded : tuple of int
        The padded spatial size of the result.
    stride : tuple of int
        The windows' step per axis.
    dilation : tuple of int
        The spacing between a window's elements per axis.
    """
    d = len(padded)
    kernel, out_sp = cols.shape[1:1 + d], cols.shape[1 + d:1 + 2 * d]
    result = np.zeros((cols.shape[0], *padded, cols.shape[-1]), dtype=cols.dtype)
    for k in itertools.product(*(range(n) for n in kernel)):
        result[_offset_pixels(k, stride, dilation, out_sp)] += cols[(slice(None),) + k]
    return result


def _offset_pixels(k: Dims, stride: Dims, dilation: Dims, out: Dims) -> tuple[slice, ...]:
    """Index of the pixels that kernel offset `k` of every window reads, in a batch-last
    (C, *padded, N) array."""
    return (slice(None),) + tuple(slice(i * dl, i * dl + s * (o - 1) + 1, s)
                                  for i, dl, s, o in zip(k, dilation, stride, out))


def col2im_by_offset(g_last: np.ndarray, w: np.ndarray, groups: int, padded: Dims,
                     stride: Dims, dilation: Dims) -> np.ndarray:
    """`col2im` of the columns `w^T g` without materialising them: per kernel offset, one
    GEMM of that offset's weights with `g` into a buffer of C x positions, added to its
    pixels. The buffer is 1/prod(kernel) of the columns and stays in cache while it is
    added, where the columns would go out to memory and back.

    Parameters
    ----------
    g_last, w, groups
        As in `input_grad`: the batch-last upstream gradient (O, *out, N), the weights
        (O, C/groups, *kernel) and the channel groups.
    padded : tuple of int
        The padded spatial size of the result.
    stride, dilation : tuple of int
        The convolution's settings.
    """
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    og, out, n = o // groups, g_last.shape[1:-1], g_last.shape[-1]
    g_rows = g_last.reshape(groups, og, -1)
    per_offset = np.ascontiguousarray(                       # prod(K), G, C/G, O/G
        w.reshape(groups, og, cg, -1).transpose(3, 0, 2, 1))
    dtype = np.result_type(g_rows, w)
    result = np.zeros((groups * cg, *padded, n), dtype=dtype)
    buffer = np.empty((groups, cg, g_rows.shape[-1]), dtype=dtype)
    for i, k in enumerate(itertools.product(*(range(m) for m in kernel))):
        np.matmul(per_offset[i], g_rows, out=buffer)
        result[_offset_pixels(k, stride, dilation, out)] += buffer.reshape(
            groups * cg, *out, n)
    return result


def _batch_last(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> contiguous (C, *spatial, N)."""
    return _copy_batch_last(x, np.empty(x.shape[1:] + x.shape[:1], dtype=x.dtype))


def _to_batch_last(a: Any) -> Any:
    return a.transpose(tuple(range(1, a.ndim)) + (0,))


def _copy_batch_last(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write the (N, C, *spatial) array `x` into the (C, *spatial, N) array `out`."""
    if x.shape[0] < 16 or x.strides[0] % 1024:
        out[...] = _to_batch_last(x)
        return out
    # Images a multiple of 1 KiB apart fall into the same cache sets, and a transposed copy,
    # which reads one value from every image in turn, keeps evicting them; eight images at a
    # time stay in cache.
    for i in range(0, x.shape[0], 8):
        out[..., i:i + 8] = _to_batch_last(x[i:i + 8])
    return out


def _batch_first(xt: np.ndarray, padding: Dims, size: Dims,
                 out: np.ndarray | None = None) -> np.ndarray:
    """Padded batch-last (C, *padded, N) -> the cropped, contiguous (N, C, *size), written
    into `out` if given."""
    cropped = xt[(slice(None),) + tuple(slice(p, p + s) for p, s in zip(padding, size))]
    last_first = (cropped.ndim - 1,) + tuple(range(cropped.ndim - 1))
    if int(np.prod(size)) * xt.shape[-1] < 2048:  # small channels: one copy, no Python loop
        if out is None:
            return np.ascontiguousarray(cropped.transpose(last_first))
        out[...] = cropped.transpose(last_first)
        return out
    if out is None:
        out = np.empty((xt.shape[-1], xt.shape[0], *size), dtype=xt.dtype)
    # One channel at a time: each channel's transpose stays in cache, unlike one transposed
    # copy of the whole array.
    plane_first = (len(size),) + tuple(range(len(size)))
    for c in range(xt.shape[0]):
        out[:, c] = cropped[c].transpose(plane_first)
    return out


def output_size(size: Dims, kernel: Dims, stride: Dims, padding: Dims, dilation: Dims) -> Dims:
    """Spatial output size of a convolution (or a floor-mode pooling window).

    Parameters
    ----------
    size : tuple of int
        The input's spatial size.
    kernel : tuple of int
        The window's size.
    stride : tuple of int
        The step between windows.
    padding : tuple of int
        Positions added at both ends.
    dilation : tuple of int
        The spacing between a window's elements.
    """
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def pad_spatial(x: np.ndarray, before: Dims, after: Dims | None = None,
                value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes of (N, C, *spatial) by `before` and `after` (default: the same).

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial)
        The array.
    before : tuple of int
        Positions added before each spatial axis.
    after : tuple of int, optional
        Positions added after each; `before` by default.
    value : float, default 0.0
        The fill.
    """
    after = before if after is None else after
    if not any(before) and not any(after):
        return x
    return np.pad(x, ((0, 0), (0, 0)) + tuple(zip(before, after)), constant_values=value)


def conv_conf(stride: Dims, padding: Dims, dilation: Dims, groups: int,
              split_min_work: float = SPLIT_MIN_WORK, threads: int | None = None,
              per_offset_max_bytes: int = PER_OFFSET_MAX_BYTES) -> dict[str, Any]:
    """The settings every convolution op keeps in `ctx.conf` and passes to its adjoints.

    Parameters
    ----------
    stride, padding, dilation : tuple of int
        Per spatial axis.
    groups : int
        The channel groups.
    split_min_work : float, default SPLIT_MIN_WORK
        Multiply-adds from which the batch is split over threads (`ops.batch_split`).
    threads : int, optional
        Chunks a split batch is cut into; one per core when None.
    per_offset_max_bytes : int, default PER_OFFSET_MAX_BYTES
        Input gradients up to this buffer size go one kernel offset at a time (`input_grad`).
    """
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                split_min_work=split_min_work, threads=threads,
                per_offset_max_bytes=per_offset_max_bytes)


def _chunks(n: int, o: int, out: Dims, w_shape: Dims, conf: dict[str, Any]) -> list[slice]:
    """The batch's chunks for a convolution of these sizes (`conf` from `conv_conf`)."""
    work = float(n) * o * float(np.prod(out)) * float(np.prod(w_shape[1:]))
    return batch_chunks(n, work, conf["split_min_work"], conf["threads"])


def _geometry(conf: dict[str, Any]) -> dict[str, Any]:
    """The settings of `conf` that change the result (the others only choose how)."""
    return {k: conf[k] for k in ("stride", "padding", "dilation", "groups")}


def _im2col(x: np.ndarray, kernel: Dims, stride: Dims, padding: Dims, dilation: Dims,
            groups: int) -> np.ndarray:
    """(N, C, *spatial) -> (N, groups, C/groups*prod(kernel), prod(out)): one GEMM operand
    per image and group, laid out so that the product with the weights is already NC*."""
    n, c, d = x.shape[0], x.shape[1], x.ndim - 2
    out = output_size(x.shape[2:], kernel, stride, padding, dilation)
    win = windows(pad_spatial(x, padding), kernel, stride, dilation, out)
    win = win.transpose((0, 1) + tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2, 2 + d)))
    # (explicit sizes, not -1: numpy cannot infer an axis of an empty batch)
    return win.reshape(n, groups, c // groups * int(np.prod(kernel)), int(np.prod(out)))


def _im2col_batch_last(x: np.ndarray, kernel: Dims, stride: Dims, padding: Dims,
                       dilation: Dims, groups: int) -> np.ndarray:
    """(N, C, *spatial) -> (groups, C/groups*prod(kernel), prod(out)*N): all images in one
    GEMM operand."""
    n, c, d = x.shape[0], x.shape[1], x.ndim - 2
    out = output_size(x.shape[2:], kernel, stride, padding, dilation)
    padded = np.zeros((c, *(s + 2 * p for s, p in zip(x.shape[2:], padding)), n), dtype=x.dtype)
    inner = (slice(None),) + tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:]))
    _copy_batch_last(x, padded[inner])
    win = windows(padded.transpose((d + 1,) + tuple(range(d + 1))), kernel, stride, dilation,
                  out)                                       # N, C, *out, *kernel
    win = win.transpose((1,) + tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2, 2 + d)) + (0,))
    return win.reshape(groups, c // groups * int(np.prod(kernel)), int(np.prod(out)) * n)


def conv_forward(x: np.ndarray, w: np.ndarray, stride: Dims, padding: Dims, dilation: Dims,
                 groups: int, batch_last_max_width: int = BATCH_LAST_MAX_WIDTH,
                 out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, Layout]:
    """Cross-correlation of arrays: im2col, then one batched GEMM over the groups.

    Returns the output, the im2col matrix (reusable by `weight_grad`) and its layout:
    `BATCH_LAST` (one operand for all images) when the output's last spatial axis is at most
    `batch_last_max_width` wide, `PER_IMAGE` otherwise.

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial)
        The input.
    w : ndarray, shape (O, C/groups, *kernel)
        The weights.
    stride, padding, dilation : tuple of int
        The convolution's settings, per spatial axis.
    groups : int
        The channel groups.
    batch_last_max_width : int, default BATCH_LAST_MAX_WIDTH
        Outputs whose last spatial axis is at most this wide use the batch-last im2col.
    out : ndarray, shape (N, O, *out), optional
        A C-contiguous array to write the output into.
    """
    n, o = x.shape[0], w.shape[0]
    size = output_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
    if out is None:
        out = np.empty((n, o, *size), dtype=np.result_type(x, w))
    wmat = w.reshape(groups, o // groups, -1)                # G, Og, Cg*prod(K)
    if size[-1] <= batch_last_max_width:
        cols = _im2col_batch_last(x, w.shape[2:], stride, padding, dilation, groups)
        y = matmul_in_blocks(wmat, cols)
        out[...] = y.reshape(o, *size, n).transpose((len(size) + 1,) + tuple(range(len(size) + 1)))
        return out, cols, BATCH_LAST
    cols = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
    matmul_in_blocks(wmat, cols, out.reshape(n, groups, o // groups, cols.shape[-1]))
    return out, cols, PER_IMAGE


def weight_grad(g: np.ndarray, cols: np.ndarray, layout: Layout, w_shape: Dims, groups: int,
                g_last: np.ndarray | None = None) -> np.ndarray:
    """dL/dw from the upstream gradient and the input's im2col matrix in `layout`;
    `g_last` is `_batch_last(g)` if the caller has it already.

    Parameters
    ----------
    g : ndarray, shape (N, O, *out)
        The upstream gradient.
    cols : ndarray
        The input's im2col matrix from `conv_forward`.
    layout : {"batch_last", "per_image"}
        Its layout.
    w_shape : tuple of int
        The weight's shape (O, C/groups, *kernel).
    groups : int
        The channel groups.
    g_last : ndarray, optional
        `g` as batch-last (O, *out, N), when the caller has it already.
    """
    og = w_shape[0] // groups
    if layout == BATCH_LAST:  # one GEMM over all images
        g_last = _batch_last(g) if g_last is None else g_last
        g_rows = g_last.reshape(groups, og, cols.shape[2])     # G, Og, prod(out)*N
        # cols @ g^T, transposed after (a small array), runs OpenBLAS's faster kernel for
        # this long, thin product than g @ cols^T (docs/performance.md).
        return (cols @ g_rows.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(w_shape)
    g_rows = g.reshape(g.shape[0], groups, og, cols.shape[3])   # N, G, Og, prod(out)
    # (cols @ g^T, transposed after the sum, is faster than g @ cols^T on OpenBLAS)
    per_image = cols @ g_rows.transpose(0, 1, 3, 2)             # N, G, Cg*prod(K), Og
    return per_image.sum(axis=0).transpose(0, 2, 1).reshape(w_shape)


def input_grad(g_last: np.ndarray, w: np.ndarray, x_shape: Dims, stride: Dims, padding: Dims,
               dilation: Dims, groups: int, out: np.ndarray | None = None,
               per_offset_max_bytes: int = PER_OFFSET_MAX_BYTES) -> np.ndarray:
    """dL/dx from the batch-last upstream gradient (O, *out, N): the windows' entries
    `w^T g` added back to their pixels, either one kernel offset at a time
    (`col2im_by_offset`, when a buffer of C x positions takes at most `per_offset_max_bytes`)
    or through all the columns at once (one GEMM, then `col2im`).

    Parameters
    ----------
    g_last : ndarray, shape (O, *out, N)
        The upstream gradient, batch last.
    w : ndarray, shape (O, C/groups, *kernel)
        The weights.
    x_shape : tuple of int
        The input's shape (N, C, *spatial).
    stride, padding, dilation : tuple of int
        The convolution's settings, per spatial axis.
    groups : int
        The channel groups.
    out : ndarray, shape `x_shape`, optional
        A C-contiguous array to write the result into.
    per_offset_max_bytes : int, default PER_OFFSET_MAX_BYTES
        The largest buffer (C x output positions x images) of the per-offset algorithm.
    """
    c, size = x_shape[1], tuple(x_shape[2:])
    o, kernel = w.shape[0], w.shape[2:]
    out_sp, n = g_last.shape[1:-1], g_last.shape[-1]
    g_rows = g_last.reshape(groups, o // groups, int(np.prod(out_sp)) * n)
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    itemsize = np.result_type(g_last, w).itemsize
    if c * g_rows.shape[-1] * itemsize <= per_offset_max_bytes:
        result = col2im_by_offset(g_last, w, groups, padded, stride, dilation)
    else:
        wmat = w.reshape(groups, o // groups, -1)
        cols = (wmat.transpose(0, 2, 1) @ g_rows).reshape(c, *kernel, *out_sp, n)
        result = col2im(cols, padded, stride, dilation)
    return _batch_first(result, padding, size, out)


def split_forward(x: np.ndarray, w: np.ndarray, conf: dict[str, Any],
                  batch_last_max_width: int = BATCH_LAST_MAX_WIDTH
                  ) -> tuple[np.ndarray, list[np.ndarray], Layout, list[slice]]:
    """`conv_forward` over chunks of the batch, on separate threads if the work is big
    enough (`ops.batch_split`): the output, each chunk's im2col columns, their layout and
    the chunks.

    Parameters
    ----------
    x, w
        The input (N, C, *spatial) and the weights (O, C/groups, *kernel).
    conf : dict
        The settings, from `conv_conf`.
    batch_last_max_width : int, default BATCH_LAST_MAX_WIDTH
        As in `conv_forward`.
    """
    n, o = x.shape[0], w.shape[0]
    size = output_size(x.shape[2:], w.shape[2:], conf["stride"], conf["padding"],
                       conf["dilation"])
    chunks = _chunks(n, o, size, w.shape, conf)
    out = np.empty((n, o, *size), dtype=np.result_type(x, w))
    geometry = _geometry(conf)
    parts = run_chunks(lambda i, s: conv_forward(x[s], w, **geometry, out=out[s],
                                                 batch_last_max_width=batch_last_max_width),
                       chunks)
    return out, [p[1] for p in parts], parts[0][2], chunks


def split_backward(g: np.ndarray, x_shape: Dims, w: np.ndarray, cols: list[np.ndarray],
                   layout: Layout, chunks: list[slice], conf: dict[str, Any],
                   need_x: bool, need_w: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """dL/dx and dL/dw (each None unless asked for) over the forward's chunks: each chunk's
    input gradient and its share of the weight gradient on its own thread, the shares
    added in chunk order.

    Parameters
    ----------
    g : ndarray, shape (N, O, *out)
        The upstream gradient.
    x_shape : tuple of int
        The input's shape.
    w : ndarray
        The weights.
    cols, layout, chunks
        From `split_forward`.
    conf : dict
        The settings, from `conv_conf`.
    need_x, need_w : bool
        Which gradients to compute.
    """
    gx = np.empty(x_shape, dtype=np.result_type(g, w)) if need_x else None
    geometry = _geometry(conf)

    def chunk(i: int, s: slice) -> np.ndarray | None:
        g_last = _batch_last(g[s]) if need_x else None
        if need_x:
            input_grad(g_last, w, (s.stop - s.start, *x_shape[1:]), **geometry, out=gx[s],
                       per_offset_max_bytes=conf["per_offset_max_bytes"])
        return weight_grad(g[s], cols[i], layout, w.shape, conf["groups"], g_last) \
            if need_w else None

    return gx, _sum_in_order(run_chunks(chunk, chunks)) if need_w else None


def _sum_in_order(parts: list[Any]) -> Any:
    total = parts[0]
    for p in parts[1:]:
        total += p  # (each part is a fresh array)
    return total


@register_op("convolution", nin=2, shape_rule="convolution")
class Convolution(Function):
    """y = x (*) w, N-d;  dy/dx = convolution_input_grad,  dy/dw = convolution_weight_grad"""

    @staticmethod
    def forward(ctx, x, w, stride, padding, dilation, groups=1,
                batch_last_max_width=BATCH_LAST_MAX_WIDTH, split_min_work=SPLIT_MIN_WORK,
                threads=None, per_offset_max_bytes=PER_OFFSET_MAX_BYTES):
        ctx.save_for_backward(x, w)
        ctx.conf = conv_conf(stride, padding, dilation, groups, split_min_work, threads,
                             per_offset_max_bytes)
        out, cols, layout, chunks = split_forward(x, w, ctx.conf, batch_last_max_width)
        if ctx.recording:  # reused by the usual (first-order) weight gradient
            ctx.cols, ctx.layout, ctx.chunks = cols, layout, chunks
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = ConvolutionInputGrad.apply(g, w, x_shape=x.shape, **ctx.conf) if need_x else None
        gw = ConvolutionWeightGrad.apply(x, g, w_shape=w.shape, **ctx.conf) if need_w else None
        return gx, gw

    @staticmethod
    def backward_arrays(ctx, g):
        """First-order passes reuse the forward's im2col columns for the weight gradient (the
        general backward rebuilds them), transpose the gradient once for both products, and
        keep the forward's chunks of the batch.

        Parameters
        ----------
        ctx : Context
            The op's context: saved input and weight, `conf`, and the forward's
            `cols`/`layout`/`chunks`.
        g : ndarray, shape (N, O, *out)
            The upstream gradient.
        """
        x, w = ctx.saved_tensors
        return split_backward(g, x.shape, w, ctx.cols, ctx.layout, ctx.chunks, ctx.conf,
                              *ctx.needs_input_grad)


@register_op("convolution_input_grad", nin=2, shape_rule="convolution_input_grad",
             adjoint_of="convolution")
class ConvolutionInputGrad(Function):
    """z = conv's adjoint in x, at g;  dz/dg = convolution(., w),  dz/dw = ..._weight_grad(.,g)

    The transposed convolution: `conv_transpose1d/2d/3d` are this op.
    """

    @staticmethod
    def forward(ctx, g, w, x_shape, stride, padding, dilation, groups=1,
                split_min_work=SPLIT_MIN_WORK, threads=None,
                per_offset_max_bytes=PER_OFFSET_MAX_BYTES):
        ctx.save_for_backward(g, w)
        ctx.conf = conv_conf(stride, padding, dilation, groups, split_min_work, threads,
                             per_offset_max_bytes)
        out = np.empty(x_shape, dtype=np.result_type(g, w))
        geometry = _geometry(ctx.conf)
        run_chunks(lambda i, s: input_grad(_batch_last(g[s]), w, (s.stop - s.start,
                                                                  *x_shape[1:]),
                                           **geometry, out=out[s],
                                           per_offset_max_bytes=per_offset_max_bytes),
                   _chunks(g.shape[0], w.shape[0], g.shape[2:], w.shape, ctx.conf))
        return out

    @staticmethod
    def backward(ctx, u):
        g, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad
        gg = Convolution.apply(u, w, **ctx.conf) if need_g else None
        gw = ConvolutionWeightGrad.apply(u, g, w_shape=w.shape, **ctx.conf) if need_w else None
        return gg, gw


@register_op("convolution_weight_grad", nin=2, shape_rule="convolution_weight_grad",
             adjoint_of="convolution")
class ConvolutionWeightGrad(Function):
    """z = conv's adjoint in w, at g;  dz/dx = ..._input_grad(g, .),  dz/dg = conv(x, .)"""

    @staticmethod
    def forward(ctx, x, g, w_shape, stride, padding, dilation, groups=1,
                split_min_work=SPLIT_MIN_WORK, threads=None,
                per_offset_max_bytes=PER_OFFSET_MAX_BYTES):
        ctx.save_for_backward(x, g)
        ctx.conf = conv_conf(stride, padding, dilation, groups, split_min_work, threads,
                             per_offset_max_bytes)

        def chunk(i: int, s: slice) -> np.ndarray:
            cols = _im2col(x[s], w_shape[2:], stride, padding, dilation, groups)
            return weight_grad(g[s], cols, PER_IMAGE, w_shape, groups)

        return _sum_in_order(run_chunks(chunk, _chunks(g.shape[0], w_shape[0], g.shape[2:],
                                                       w_shape, ctx.conf)))

    @staticmethod
    def backward(ctx, v):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        gx = ConvolutionInputGrad.apply(g, v, x_shape=x.shape, **ctx.conf) if need_x else None
        gg = Convolution.apply(x, v, **ctx.conf) if need_g else None
        return gx, gg
