"""Progress on the long steps (the master's start, a rolling restart, the health wait), for a
person at a terminal: nothing when stdout is not a terminal, with ``--json``, or in CI. Whole
lines through pyinfra's own log, beside its output, never redrawn over it."""

from __future__ import annotations

import os
import sys
import time

from pyinfra import logger

EVERY_SECONDS = 5  # a line at least this often while nothing changes


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
