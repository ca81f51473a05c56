"""Running a test body as an ordinary user, so folder permissions apply under root."""

import os
import traceback
from collections.abc import Callable

NOBODY = 65534


def run_unprivileged(body: Callable[[], None]) -> None:
    """Run ``body`` as an ordinary user, so folder permissions apply even when the tests run
    as root (as CI does): in a forked child that drops to ``nobody`` first. Its failure is
    re-raised here with the child's traceback."""
    if os.geteuid() != 0:
        body()
        return
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report, and leave without cleanup
        os.close(read)
        status = 0
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            body()
        except BaseException:  # noqa: BLE001 - reported to the parent
            os.write(write, traceback.format_exc().encode())
            status = 1
        os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise AssertionError(f"the unprivileged run failed:\n{report}")
