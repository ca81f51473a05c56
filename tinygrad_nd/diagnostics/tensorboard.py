"""TensorBoard event files, written and read without TensorFlow or TensorBoard installed.

An event file is a sequence of TFRecords: `uint64 length`, `uint32 masked_crc32c(length)`,
`data`, `uint32 masked_crc32c(data)` (little-endian), each `data` an `Event` protocol
buffer. Scalars need only four messages, encoded here by hand:

- `Event`: `wall_time` (1, double), `step` (2, int64), `file_version` (3, string),
  `summary` (5, Summary);
- `Summary`: repeated `value` (1, Value);
- `Value`: `tag` (1, string), `simple_value` (2, float32).

The first record of a file says `file_version = "brain.Event:2"`. TensorBoard reads every
file named `*tfevents*` in a folder: `tensorboard --logdir DIR`.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from .._atomic import atomic_write


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum of TFRecords.

    Parameters
    ----------
    data : bytes
        The bytes to check (any length; a record's 8-byte length header or its payload).

    Returns
    -------
    int
        The unsigned 32-bit checksum.

    Examples
    --------
    >>> hex(crc32c(b"123456789"))   # the standard check value
    '0xe3069283'
    """
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC as TFRecords store it: rotated right by 15 bits plus a constant.

    Parameters
    ----------
    data : bytes
        The bytes to check, as for `crc32c`.

    Returns
    -------
    int
        The masked unsigned 32-bit checksum, as written after a record's header and payload.

    Examples
    --------
    >>> hex(masked_crc32c(b"123456789"))   # crc32c's check value 0xe3069283, masked
    '0xc78ab0e5'
    """
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---- protocol-buffer encoding, the four fields we need ----------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64s are ten-byte two's complement
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _field(number, 2) + _varint(len(payload)) + payload


def _event(wall_time: float, step: int, summary: bytes = b"", file_version: str = "") -> bytes:
    out = _field(1, 1) + struct.pack("<d", wall_time) + _field(2, 0) + _varint(step)
    if file_version:
        out += _length_delimited(3, file_version.encode())
    if summary:
        out += _length_delimited(5, summary)
    return out


def _scalar_summary(tag: str, value: float) -> bytes:
    value_message = _length_delimited(1, tag.encode()) + _field(2, 5) + struct.pack("<f", value)
    return _length_delimited(1, value_message)


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


class Scalar(NamedTuple):
    """One point of a TensorBoard scalar curve."""

    tag: str
    step: int
    value: float


def write(logdir: str | os.PathLike[str], scalars: Iterable[tuple[str, int, float]],
          wall_time: float | None = None) -> Path:
    """Write `(tag, step, value)` scalars to a new event file in `logdir` (created if
    needed), atomically; returns its path. Values are stored as float32, as TensorBoard's
    `simple_value`.

    Parameters
    ----------
    logdir : path
        The folder to give `tensorboard --logdir`.
    scalars : iterable of (tag, step, value)
        Tags with a `/` are grouped by what precedes it (`"bias_grad/0"`).
    wall_time : float, optional
        Seconds since the epoch stamped on every event (now by default).

    Examples
    --------
    >>> import tempfile
    >>> from tinygrad_nd.diagnostics import tensorboard
    >>> path = tensorboard.write(tempfile.mkdtemp(), [("loss", 0, 2.5), ("loss", 1, 1.25)])
    >>> [tuple(s) for s in tensorboard.read(path)]
    [('loss', 0, 2.5), ('loss', 1, 1.25)]
    """
    stamp = time.time() if wall_time is None else float(wall_time)
    folder = Path(logdir)
    folder.mkdir(parents=True, exist_ok=True)
    # TensorBoard orders files by name: the timestamp first, then what makes the name unique.
    path = folder / (f"events.out.tfevents.{int(stamp):010d}.{socket.gethostname()}."
                     f"{os.getpid()}.{time.monotonic_ns()}")
    records = [_record(_event(stamp, 0, file_version="brain.Event:2"))]
    for tag, step, value in scalars:
        if not isinstance(tag, str) or not tag:
            raise TypeError(f"tensorboard.write: a tag must be a non-empty string, got {tag!r}")
        records.append(_record(_event(stamp, int(step), _scalar_summary(tag, float(value)))))
    with atomic_write(path) as f:
        f.write(b"".join(records))
    return path


# ---- reading back ------------------------------------------------------------------------
def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int | float | bytes]]:
    """(field number, value) pairs of one message; length-delimited values as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
        elif wire_type == 1:
            value, pos = struct.unpack_from("<d", data, pos)[0], pos + 8
        elif wire_type == 5:
            value, pos = struct.unpack_from("<f", data, pos)[0], pos + 4
        elif wire_type == 2:
            size, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"unsupported protocol-buffer wire type {wire_type}")
        yield number, value


def records(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The data of every TFRecord in `path`, each length and payload CRC checked.

    Parameters
    ----------
    path : str or os.PathLike
        A TFRecord file, such as an event file written by `write`.

    Yields
    ------
    bytes
        Each record's payload (a serialized `Event` for event files), in file order.

    Raises
    ------
    ValueError
        When the file ends inside a record or a length or payload CRC does not match,
        naming the record's index and the file.
    """
    blob = Path(path).read_bytes()
    pos, index = 0, 0
    while pos < len(blob):
        if pos + 12 > len(blob):
            raise ValueError(f"tensorboard.records: {os.fspath(path)!r} ends inside the header "
                             f"of record {index}")
        header = blob[pos:pos + 8]
        (length,), (crc,) = struct.unpack("<Q", header), struct.unpack_from("<I", blob, pos + 8)
        if crc != masked_crc32c(header):
            raise ValueError(f"tensorboard.records: record {index} of {os.fspath(path)!r} has a "
                             "corrupted length (CRC mismatch)")
        data = blob[pos + 12:pos + 12 + length]
        footer = blob[pos + 12 + length:pos + 16 + length]
        if len(footer) != 4 or struct.unpack("<I", footer)[0] != masked_crc32c(data):
            raise ValueError(f"tensorboard.records: record {index} of {os.fspath(path)!r} is "
                             "truncated or corrupted (CRC mismatch)")
        yield data
        pos += 16 + length
        index += 1


def read(path: str | os.PathLike[str]) -> list[Scalar]:
    """Every scalar of an event file (simple values), in file order, CRCs checked.

    Parameters
    ----------
    path : str or os.PathLike
        An event file (`events.out.tfevents.*`), e.g. the path `write` returned.

    Returns
    -------
    list of Scalar
        `(tag, step, value)` named tuples; the values as stored (float32 precision).
    """
    out = []
    for data in records(path):
        event = dict(_fields(data))
        step = int(event.get(2, 0))
        step = step - (1 << 64) if step >= 1 << 63 else step
        for number, value_message in _fields(event.get(5, b"")):
            if number != 1:
                continue
            value = dict(_fields(value_message))  # type: ignore[arg-type]
            if 2 in value:
                out.append(Scalar(value[1].decode(), step, float(value[2])))  # type: ignore
    return out
