"""``/etc/hosts``: the post's step 2, without overwriting the nodes' own entries."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from operations.util import changes, file_commands, verdict


@operation()
def etc_hosts():
    """
    Make every cluster name (managed and resolve-only hosts) resolve to its declared address in
    ``/etc/hosts``, keeping every other line byte for byte.

    Behaviour:
        A missing name is appended as ``ADDRESS<TAB>NAME``. A managed name found on a line with
        another address is taken off that line (the line goes when no name is left), so the
        first match, which is what resolvers use, is the declared one. Comments, blank lines,
        CRLF, tabs, IPv6 lines and the file's mode stay. The file is replaced atomically, and not
        at all if it changed since it was read.

    **Example:**

    .. code:: python

        hosts.etc_hosts(name="Every cluster name resolves on every node")
    """
    v = verdict("etc_hosts")
    if v.in_sync:
        host.noop(f"/etc/hosts already resolves {v.desired}")
        return
    yield from changes(file_commands("/etc/hosts", v.details.file), why=v)
