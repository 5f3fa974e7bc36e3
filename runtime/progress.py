"""Progress on the long steps (the tarball's copy, the master's start, a rolling restart, the
health wait), for a
person at a terminal: nothing when stdout is not a terminal, with ``--json``, or in CI. Whole
lines through pyinfra's own log, beside its output, never redrawn over it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import gevent
from pyinfra import logger

EVERY_SECONDS = 5  # a line at least this often while nothing changes
MIB = 1 << 20


def enabled() -> bool:
    return sys.stdout.isatty() and "--json" not in sys.argv[1:] and not os.environ.get("CI")


def show(line: str) -> None:
    if enabled():
        logger.info(f"--> progress: {line}")


class Waiting:
    """One wait's progress: a line when what is seen changes, and every EVERY_SECONDS."""

    def __init__(self, what: str, limit: float) -> None:
        self.what, self.limit, self.start = what, limit, time.monotonic()
        self.last_said, self.last_line = 0.0, ""

    def seen(self, state: str) -> None:
        now = time.monotonic()
        if state != self.last_line or now - self.last_said >= EVERY_SECONDS:
            self.last_said, self.last_line = now, state
            show(f"{self.what}: {state} ({now - self.start:.0f} s of {self.limit:.0f})")


class Stream:
    """The tarball's copy, watched from here while it runs: every EVERY_SECONDS the size of
    each node's partial file (``read``: node -> bytes, or None), the slowest node, the rate and
    the time left. Only at a terminal: otherwise it reads nothing."""

    def __init__(
        self,
        what: str,
        size: int,
        read: Callable[[], dict[str, int | None]],
        over: Callable[[], bool] = lambda: False,
    ) -> None:
        self.what, self.size, self.read, self.over = what, size, read, over
        self.greenlet: gevent.Greenlet | None = None

    def __enter__(self) -> Stream:
        if enabled():
            self.greenlet = gevent.spawn(self._watch)
        return self

    def __exit__(self, *_: object) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)

    def _watch(self) -> None:
        start, before = time.monotonic(), 0
        while True:
            gevent.sleep(EVERY_SECONDS)
            if self.over():
                return
            sizes = self.read()
            known = {n: b for n, b in sizes.items() if b is not None}
            if not known:
                continue
            slowest = min(known, key=lambda n: known[n])
            got, elapsed = known[slowest], time.monotonic() - start
            rate = (got - before) / EVERY_SECONDS
            before = got
            left = f", about {(self.size - got) / rate:.0f} s left" if rate > 0 else ""
            where = f" on the slowest node ({slowest})" if len(sizes) > 1 else ""
            show(
                f"{self.what}: {got / MIB:.0f} of {self.size / MIB:.0f} MiB{where}, "
                f"{rate / MIB:.1f} MiB/s{left} ({elapsed:.0f} s)"
            )
            if got >= self.size:
                return
