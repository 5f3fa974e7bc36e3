"""After a converge: what it applied, recorded on each node for the drift report."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import operation

from layout import RECORD, RECORD_MODE
from operations.util import changes, cluster, snapshots, write_file
from resources import UNREACHABLE, node_verdicts


@operation()
def applied():
    """
    Record on the node, per resource, the fingerprint of the declaration this converge brought
    it to (``/etc/alluxio-reconcile/applied``). The drift report compares it with the current
    declaration: a resource that differs from a declaration already applied was changed on the
    host (corrective); one whose declaration changed since is a pending, intended change.

    Behaviour:
        Runs last, so a node where an operation failed keeps its previous record. Resources
        that the converge leaves alone (a launcher of unknown shape, a refused host key) keep
        what an earlier converge recorded. Rewritten only when a fingerprint differs.

    **Example:**

    .. code:: python

        record.applied(name="Record what was applied")
    """
    c = cluster()
    snap = snapshots((host.name,))[host.name]
    needed = c.names if host.name == c.master else (host.name, c.master)
    verdicts = node_verdicts(c, host.name, snapshots(tuple(dict.fromkeys(needed))))
    left_alone = {n for n, v in verdicts.items() if v.details.left_alone}
    previous = snap.applied if snap is not None else {}
    record = {
        name: previous[name] if name in left_alone else v.fingerprint
        for name, v in sorted(verdicts.items())
        if v.status != UNREACHABLE and (name not in left_alone or name in previous)
    }
    if snap is not None and snap.applied == record:
        host.noop("the record already names this declaration")
        return
    text = "".join(f"{name} {fingerprint}\n" for name, fingerprint in record.items())
    folder = shlex.quote(RECORD.rpartition("/")[0])
    yield from changes(
        # the tool's own file: replaced whatever it holds
        [f"mkdir -p {folder}", f"rm -f {shlex.quote(RECORD)}", *write_file(RECORD, text, RECORD_MODE, None)],
        why="record the applied declaration",
    )
