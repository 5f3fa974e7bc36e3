"""Alluxio's configuration on every node: the post's steps 5 and 6, rendered from the model on
each node instead of edited on the master and copied with ``copyDir``."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import operation

from operations.util import changes, file_commands, verdict


def _write(resource: str):
    v = verdict(resource)
    if v.in_sync:
        host.noop(f"{v.path} already declares {v.desired}")
        return
    yield from changes(file_commands(v.path or "", v.details.file), why=v)


@operation()
def workers_file():
    """
    Make ``conf/workers`` list exactly the declared workers, one bare hostname a line.

    Behaviour:
        The whole file is the tool's (a comment line says so); it is replaced atomically when
        its text differs, and its mode is 644 root:root. Every node gets the same file.

    **Example:**

    .. code:: python

        conf.workers_file(name="conf/workers lists the workers")
    """
    yield from _write("workers_file")


@operation()
def alluxio_env():
    """
    Render ``conf/alluxio-env.sh`` from the model: ``ALLUXIO_MASTER_HOSTNAME`` (set on every
    node, or workers look for a master on their own host), ``ALLUXIO_UNDERFS_ADDRESS`` and the
    extra variables of ``alluxio_env``, each value shell-quoted.

    Behaviour:
        Replaced atomically when its text differs; mode 644 root:root; the same on every node.

    **Example:**

    .. code:: python

        conf.alluxio_env(name="conf/alluxio-env.sh as declared")
    """
    yield from _write("alluxio_env")


@operation()
def alluxio_site():
    """
    Render ``conf/alluxio-site.properties`` from the model: the storage tiers'
    ``alluxio.worker.tieredstore.*`` keys and the keys of ``alluxio_site``, escaped as Java's
    ``Properties`` reads them.

    Behaviour:
        Replaced atomically when its text differs; mode 644 root:root, or 600 when it holds an
        under storage's credentials; the same on every node. A node where ``/etc/alluxio/``
        holds a site file is refused before anything changes (the daemons would load that one
        instead).

    **Example:**

    .. code:: python

        conf.alluxio_site(name="conf/alluxio-site.properties as declared")
    """
    yield from _write("alluxio_site")
