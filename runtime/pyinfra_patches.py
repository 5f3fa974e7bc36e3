"""Every change this tool makes to pyinfra's own objects, each held to the exact pyinfra it was
read from: installing one checks the installed version and the source of what it replaces
(a sha256 of ``inspect.getsource``) and refuses, naming both, when either differs. pyinfra is
pinned to that version (pyproject.toml); a newer one must be read again, not trusted.

Two are costs pyinfra 3.10 pays for every operation on every host, taken out with the same
results. At 64 hosts a no-op converge calls about a thousand operations, and pyinfra's
bookkeeping for each was a quarter of its time:

- **The operation's place in the deploy file**: pyinfra lists the line numbers of the calling
  frames with ``inspect.stack()``, which also reads each frame's source line and resolves its
  module (a scan of every loaded module for a file that belongs to none, as the deploy file
  pyinfra exec's does). Only file names and line numbers are used: they are read off the frames.
- **The global arguments' types**: ``typing.get_type_hints`` of the same class on every call.
  They are constant: computed once.

A third grows with the hosts: every operation on every host looks each of pyinfra's forty
global arguments up in that host's data, layer by layer (override, host, groups merged anew
each time, all, deploy), mostly to find it absent. At 1,000 hosts that was half the control
process's CPU in a no-op. **A host's data lookups** are kept per host, and looked up again when
that host's own data is assigned (``host.data.x = ...``) or another deploy's data applies; the
inventory's data is fixed once pyinfra loaded it. Each lookup still returns a copy, as
pyinfra's does.

Two wrap a method of one object, calling the original first or last:

- ``State.init``: the inventory is validated right after pyinfra built it and before its first
  connection (a refusal names the field; nothing has been contacted).
- ``Host.disconnect`` of the master: pyinfra disconnects every host however a run ends, so the
  converge lock is released there, while the master's connection is still open.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from collections.abc import Callable
from copy import copy
from importlib.metadata import version
from types import FrameType
from typing import Any

import pyinfra
from pyinfra.api import Host, State, arguments, util
from pyinfra.api.host import HostData

PYINFRA = "3.10.0"  # the version every patch below was read from (pyproject.toml pins it)
# sha256 of the source of each function replaced or wrapped, in that version
SOURCES = {
    "pyinfra.api.util.get_operation_order_from_stack": (
        "f4807f61585570e091fd453c7552d9e2b49329555f07f395a8e8f1d2a398a0b2"
    ),
    "pyinfra.api.arguments.all_global_arguments": (
        "f7afbc472d78c5d2f0bb282994175647651e888543da001968d903cc4a26a5a1"
    ),
    "pyinfra.api.state.State.init": "0d730bb453f36c10463473bd6ec0226f4815aa25581eb806b5cbc799e7327d36",
    "pyinfra.api.host.Host.disconnect": "618031eaf8ae2fbaaf98b4e9a9a17224f7cfd1eddca40552e9d31807a9b30288",
    "pyinfra.api.host.HostData.__getattr__": (
        "87152f64f2a65e537473f169b0cfa4e0c39547ee4054d73bad6bbf97af313433"
    ),
}

_operation = sys.modules["pyinfra.api.operation"]  # the module, not the decorator of that name
_ORIGINAL_ORDER = util.get_operation_order_from_stack
_ORIGINAL_ARGUMENTS = arguments.all_global_arguments
_ORIGINAL_DATA = HostData.__getattr__
_ABSENT, _MISSING = object(), object()  # not looked up yet; looked up, not there


class PatchRefusedError(RuntimeError):
    """pyinfra is not the version, or a function not the source, a patch was read from."""


def source_digest(function: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def check(name: str, function: Callable[..., Any]) -> None:
    """Refuse, loudly, unless ``function`` (known as ``name``) is what the patch was read from."""
    installed = version("pyinfra")
    if installed != PYINFRA:
        raise PatchRefusedError(
            f"pyinfra {installed} is installed; this tool's patches of pyinfra were read from {PYINFRA} "
            f"(pip install pyinfra=={PYINFRA}, or read {name} again)"
        )
    if source_digest(function) != SOURCES[name]:
        raise PatchRefusedError(
            f"pyinfra {installed}: {name} is not the function this tool's patch was read from "
            f"(pyinfra {PYINFRA}); read it again before patching it"
        )


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


def host_data_lookup(data: HostData, key: str) -> Any:
    """``pyinfra.api.host.HostData.__getattr__``, each key's value kept per host until the
    host's own data or the deploy's data changes."""
    own, host = data.__dict__["override_datas"], data.__dict__["host"]
    deploy = [id(getattr(host, f"current_{d}deploy_data", None)) for d in ("op_", "")]
    stamp = (tuple(own), tuple(map(id, own.values())), *deploy)
    kept: tuple[Any, dict[str, Any]] | None = data.__dict__.get("_lighter")
    if kept is None or kept[0] != stamp:
        kept = data.__dict__["_lighter"] = (stamp, {})
    value = kept[1].get(key, _ABSENT)
    if value is _ABSENT:
        try:
            value = _ORIGINAL_DATA(data, key)
        except AttributeError:
            kept[1][key] = _MISSING
            raise
        kept[1][key] = value
    elif value is _MISSING:
        raise AttributeError(f"Host `{host}` has no data `{key}`")
    return copy(value)


def lighten() -> None:
    """Install the lighter bookkeeping, once, where pyinfra looks it up."""
    if getattr(_operation, "get_operation_order_from_stack", None) is _ORIGINAL_ORDER:
        check("pyinfra.api.util.get_operation_order_from_stack", _ORIGINAL_ORDER)
        setattr(_operation, "get_operation_order_from_stack", operation_order_from_stack)  # noqa: B010
    if arguments.all_global_arguments is _ORIGINAL_ARGUMENTS:
        check("pyinfra.api.arguments.all_global_arguments", _ORIGINAL_ARGUMENTS)
        arguments.all_global_arguments = functools.cache(_ORIGINAL_ARGUMENTS)
    if HostData.__getattr__ is _ORIGINAL_DATA:
        check("pyinfra.api.host.HostData.__getattr__", _ORIGINAL_DATA)
        HostData.__getattr__ = host_data_lookup  # type: ignore[method-assign]


def unlighten() -> None:
    """Put pyinfra's own bookkeeping back (for tests)."""
    setattr(_operation, "get_operation_order_from_stack", _ORIGINAL_ORDER)  # noqa: B010
    arguments.all_global_arguments = _ORIGINAL_ARGUMENTS
    HostData.__getattr__ = _ORIGINAL_DATA  # type: ignore[method-assign]


def after_init(state: State, then: Callable[[], None]) -> None:
    """Make ``state.init`` run ``then`` right after pyinfra's own (this state only)."""
    check("pyinfra.api.state.State.init", type(state).init)
    init = state.init

    def init_then(inventory: Any, *args: Any, **kwargs: Any) -> None:
        init(inventory, *args, **kwargs)
        then()

    state.init = init_then  # type: ignore[method-assign]


def before_disconnect(host: Host, first: Callable[[], None]) -> None:
    """Make ``host.disconnect`` run ``first`` before pyinfra's own (this host only)."""
    check("pyinfra.api.host.Host.disconnect", type(host).disconnect)
    disconnect = host.disconnect

    def first_then_disconnect() -> None:
        first()
        disconnect()

    host.disconnect = first_then_disconnect  # type: ignore[method-assign]
