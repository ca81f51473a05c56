"""`atomic_write`: the one way the package writes a file that something will read back.

A save is a small database commit: the new content goes to a temporary file in the same
folder, which is flushed and fsynced, then renamed over the target with `os.replace` (atomic
on POSIX and Windows), then the folder is fsynced so the rename itself survives a power cut.
A reader, or the process after a crash, sees either the old file or the complete new one.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

# A directory fsync is how POSIX makes a rename durable; filesystems that cannot do it
# (some network and FUSE ones) answer with these, and there is nothing more to do there.
_DIR_FSYNC_UNSUPPORTED = (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES)


def _create_temp(target: str) -> tuple[int, str]:
    """Open a fresh temporary file next to `target`, with the mode `open()` would give."""
    folder, base = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 goes through the umask exactly as open(path, "w") would; mkstemp's 0o600
            # would make every saved model private to its owner.
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except PermissionError as e:
            raise PermissionError(e.errno, f"atomic_write: cannot write {target!r}: no "
                                  f"permission to create a file in {folder!r}", target) from e
        try:
            # An existing file keeps its mode, as it would if open() had overwritten it.
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        return fd, tmp
    raise FileExistsError(f"atomic_write: no free temporary name next to {target!r}")


def _fsync_directory(folder: str) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # Windows: directories cannot be opened, nor synced
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in _DIR_FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb",
                 encoding: str | None = None) -> Iterator[IO[Any]]:
    """Write `path` all at once or not at all, durably.

    Yields a file object open on a temporary file in the same folder. When the `with`
    block ends normally the file is flushed, fsynced, renamed over `path` and the folder is
    fsynced. On any exception (`KeyboardInterrupt` included) the temporary file is removed,
    `path` is left as it was and the exception propagates. A new file gets the permissions
    `open()` would give it (`0o666 & ~umask`); an existing file keeps its mode. A symlink
    is followed, so the file it points to is replaced, as `open()` would write through it.

    Parameters
    ----------
    path : str or PathLike
        The file to create or replace.
    mode : {"wb", "w"}
        Binary or text.
    encoding : str, optional
        Text encoding for `mode="w"` (default UTF-8).

    Examples
    --------
    >>> import os, tempfile
    >>> from tinygrad_nd._atomic import atomic_write
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "notes.txt")
    ...     with atomic_write(path, "w") as f:
    ...         _ = f.write("all or nothing")
    ...     print(open(path).read())
    all or nothing
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    target = os.path.realpath(os.fspath(path))
    fd, tmp = _create_temp(target)
    try:
        text = {"encoding": encoding or "utf-8"} if mode == "w" else {}
        with os.fdopen(fd, mode, **text) as f:
            fd = -1  # the file object owns the descriptor now and closes it
            try:
                yield f
                f.flush()
                os.fsync(f.fileno())
            except OSError as e:
                # ENOSPC and friends carry no file name: say which file was being written.
                e.add_note(f"atomic_write: while writing {target!r} (left unchanged)")
                raise
        os.replace(tmp, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(os.path.dirname(target))
