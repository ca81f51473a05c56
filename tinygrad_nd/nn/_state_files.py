"""Reading and writing state-dict files (`.safetensors` and `.npz`) for `Module`.

Reading checks every entry's header (name, shape, dtype) against the model *before* its data
is read, so a crafted or foreign file (a header claiming 37 GiB, a zip member that inflates
to gigabytes, a pickled object array) is refused with an error naming the file and the
entry, and nothing large is ever allocated. Writing goes through `atomic_write`.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from .._atomic import atomic_write

Expected = dict[str, tuple[tuple[int, ...], np.dtype]]
CRC_KEY = "tinygrad_nd.crc32"

# safetensors' dtype codes that numpy can hold (BF16 and the FP8 kinds have no numpy dtype).
_SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64",
                       "U64": "uint64", "I32": "int32", "U32": "uint32", "I16": "int16",
                       "U16": "uint16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
                       "C64": "complex64"}


def write_state(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` to `path` (`.npz` by suffix, else safetensors), atomically."""
    if path.endswith(".npz"):
        with atomic_write(path) as f:
            np.savez(f, **arrays)
    else:
        from safetensors.numpy import save

        # safetensors has no checksum of its own: a CRC32 per entry in the metadata lets
        # load() tell a flipped bit from a weight (npz members have zip's CRC already).
        crcs = json.dumps({k: zlib.crc32(a) for k, a in arrays.items()})
        data = save(arrays, metadata={CRC_KEY: crcs})  # serialised first: no file on error
        with atomic_write(path) as f:
            f.write(data)


def read_state(path: str, expected: Expected, strict: bool) -> dict[str, np.ndarray]:
    """The arrays of `path` that `expected` names, each checked before it is read."""
    if path.endswith(".npz"):
        return _read_npz(path, expected, strict)
    return _read_safetensors(path, expected, strict)


def _check_names(path: str, names: list[str], expected: Expected, strict: bool) -> list[str]:
    if strict:
        missing = sorted(set(expected) - set(names))
        unexpected = sorted(set(names) - set(expected))
        if missing or unexpected:
            raise KeyError(f"Module.load: {path!r} has missing keys {missing}, unexpected keys "
                           f"{unexpected}")
    return [n for n in names if n in expected]


def _check_entry(path: str, key: str, shape: tuple[int, ...], dtype: np.dtype,
                 expected: Expected) -> None:
    want_shape, want_dtype = expected[key]
    if dtype.hasobject:
        raise TypeError(f"Module.load: {key!r} in {path!r} is an object array; only numeric "
                        "arrays are loaded (pickled objects could run code)")
    if shape != want_shape:
        raise ValueError(f"Module.load: {key!r} has shape {shape} in {path!r} but "
                         f"{want_shape} in the model; its data was not read")
    if dtype != want_dtype:
        raise TypeError(f"Module.load: {key!r} has dtype {dtype} in {path!r} but {want_dtype} "
                        "in the model; its data was not read")


def _npy_header(fp: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = npy_format.read_magic(fp)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(fp)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(fp)
    raise ValueError(f"uses .npy format {version}, which np.savez does not write for numeric "
                     "arrays")


# What zipfile and numpy raise on a damaged archive: bad CRC or structure, a flag bit that now
# says "encrypted" (RuntimeError) or an unknown compression (NotImplementedError), bad headers.
_DAMAGE = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError,
           SyntaxError, KeyError)


@contextmanager
def _damage_named(path: str, key: str) -> Iterator[None]:
    try:
        yield
    except _DAMAGE as e:
        raise ValueError(f"Module.load: {key!r} in {path!r} is corrupted or not written by "
                         f"np.savez ({type(e).__name__}: {e})") from e


def _read_npz(path: str, expected: Expected, strict: bool) -> dict[str, np.ndarray]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        raise ValueError(f"Module.load: {path!r} is not an .npz archive ({e})") from None
    with archive:
        members = archive.namelist()
        odd = [m for m in members if not m.endswith(".npy")]
        if odd or len(set(members)) != len(members):
            raise ValueError(f"Module.load: {path!r} is not an np.savez archive (members "
                             f"{odd or 'with duplicate names'})")
        keys = _check_names(path, [m[:-4] for m in members], expected, strict)
        state = {}
        for key in keys:
            info = archive.getinfo(key + ".npy")
            with _damage_named(path, key), archive.open(info) as fp:
                shape, _, dtype = _npy_header(fp)
                size = fp.tell() + math.prod(shape) * dtype.itemsize
            _check_entry(path, key, shape, dtype, expected)
            # The zip directory's size is checked too: a member that inflates to more than its
            # header describes is a zip bomb or a corrupted file, never ours.
            if info.file_size != size:
                raise ValueError(f"Module.load: {key!r} in {path!r} inflates to "
                                 f"{info.file_size} bytes but its header describes {size}; "
                                 "refused")
            with _damage_named(path, key), archive.open(info) as fp:
                state[key] = npy_format.read_array(fp, allow_pickle=False)
                fp.read(1)  # reach the member's end, where zipfile checks its CRC
        return state


def _read_safetensors(path: str, expected: Expected, strict: bool) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError, safe_open

    if not os.path.exists(path):
        raise FileNotFoundError(f"Module.load: no file {path!r}")
    try:
        with safe_open(path, framework="np") as f:
            keys = _check_names(path, list(f.keys()), expected, strict)
            for key in keys:
                entry = f.get_slice(key)
                code = entry.get_dtype()
                if code not in _SAFETENSORS_DTYPES:
                    raise TypeError(f"Module.load: {key!r} in {path!r} has dtype {code}, "
                                    "which numpy cannot hold")
                _check_entry(path, key, tuple(entry.get_shape()),
                             np.dtype(_SAFETENSORS_DTYPES[code]), expected)
            crcs = _stored_crcs(path, f.metadata())
            state = {key: f.get_tensor(key) for key in keys}
    except SafetensorError as e:
        raise ValueError(f"Module.load: {path!r} is not a valid safetensors file ({e})") from None
    for key, array in state.items():
        if key in crcs and zlib.crc32(np.ascontiguousarray(array)) != crcs[key]:
            raise ValueError(f"Module.load: {key!r} in {path!r} fails its CRC32 check: the "
                             "file is corrupted")
    return state


def _stored_crcs(path: str, metadata: dict[str, str] | None) -> dict[str, int]:
    """The CRC32s `write_state` stored (files written by other tools have none)."""
    if not metadata or CRC_KEY not in metadata:
        return {}
    try:
        crcs = json.loads(metadata[CRC_KEY])
        if isinstance(crcs, dict) and all(type(v) is int for v in crcs.values()):
            return crcs
    except ValueError:
        pass
    raise ValueError(f"Module.load: {path!r} has a damaged {CRC_KEY} entry in its metadata")
