"""Two costs pyinfra 3.10 pays for every operation on every host, taken out with the same results.

At 64 hosts a no-op converge calls about a thousand operations, and pyinfra's bookkeeping for
each was a quarter of its time:

- **The operation's place in the deploy file**: pyinfra lists the line numbers of the calling
  frames with ``inspect.stack()``, which also reads each frame's source line and resolves its
  module (a scan of every loaded module for a file that belongs to none, as the deploy file
  pyinfra exec's does). Only file names and line numbers are used: they are read off the frames.
- **The global arguments' types**: ``typing.get_type_hints`` of the same class on every call.
  They are constant: computed once.

``lighten()`` installs both; it does nothing on a pyinfra whose functions are not the ones
replaced here (tests/test_pyinfra_costs.py compares old and new on the same stacks).
"""

from __future__ import annotations

import functools
import sys
from types import FrameType
from typing import Any

import pyinfra
from pyinfra.api import arguments, util

_operation = sys.modules["pyinfra.api.operation"]  # the module, not the decorator of that name


def operation_order_from_stack(state: Any) -> list[int]:
    """``pyinfra.api.util.get_operation_order_from_stack`` without ``inspect``: the line numbers
    of the calling frames from the deploy file's outermost one, pyinfra's own left out."""
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    start = 0
    if state.current_deploy_filename:
        # pyinfra's loop ends on its own frame when the deploy file is not on the stack: nothing
        found = (i for i, f in enumerate(frames) if f.f_code.co_filename == state.current_deploy_filename)
        start = next(found, len(frames))
    lines = [state.current_op_file_number] if pyinfra.is_cli else []
    lines += [
        f.f_lineno for f in frames[start:] if not f.f_code.co_filename.startswith(util.PYINFRA_INSTALL_DIR)
    ]
    return lines


_ORIGINAL_ORDER = util.get_operation_order_from_stack
_ORIGINAL_ARGUMENTS = arguments.all_global_arguments


def lighten() -> None:
    """Install the lighter bookkeeping, once, where pyinfra looks it up."""
    if getattr(_operation, "get_operation_order_from_stack", None) is _ORIGINAL_ORDER:
        _operation.get_operation_order_from_stack = operation_order_from_stack
    if arguments.all_global_arguments is _ORIGINAL_ARGUMENTS:
        arguments.all_global_arguments = functools.cache(_ORIGINAL_ARGUMENTS)
