"""A worker's disk tier folders, made and marked before its worker (re)starts."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import operation

from operations.util import changes, cluster, verdict
from resources import resources_of
from tiers import MARKER


@operation()
def folders_ready():
    """
    Make each disk tier folder of ``alluxio_tiers`` that is missing, and leave in each a
    marker naming its level and folder.

    Behaviour:
        On workers with disk tiers only. A folder is made with its parents (mode 755
        root:root, as the daemons run as root); the worker makes its data folder inside. The
        marker (``.alluxio-reconcile-tier``) is how a later run tells that a folder was emptied
        or has had another file system mounted over it; the worker then restarts
        (``runtime/schedule.py``). Nothing in a folder is ever removed.

    **Example:**

    .. code:: python

        tiers.folders_ready(name="The tier folders are there")
    """
    c = cluster()
    if "tier_dirs" not in resources_of(c, host.name):
        host.noop("no disk tiers here")
        return
    v = verdict("tier_dirs")
    if v.in_sync:
        host.noop(f"tier folders ready: {v.desired}")
        return
    commands = [f"mkdir -p -m 755 {shlex.quote(d)}" for d in v.details.make]
    commands += [
        f"printf %s {shlex.quote(text)} > {shlex.quote(f'{d}/{MARKER}')}" for d, text in v.details.mark
    ]
    yield from changes(commands, why=v)
