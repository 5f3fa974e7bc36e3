"""What the control process needs from its machine to hold every host's connection at once.

pyinfra keeps one SSH connection per host open for the whole run: a socket each, plus a few
files of its own. A shell's default limit of open files is often 1,024 (``ulimit -n``), so a
cluster of about a thousand hosts would meet it partway through connecting, and pyinfra would
report the hosts beyond it as unreachable. Before any host is contacted the soft limit is
raised as far as needed (up to the hard limit, which any process may do); when the hard limit
itself is too low the run is refused, saying what to raise. Memory has no such limit by default:
the benchmark measures it (about 0.3 MiB per host for the tool, 40 KiB per open connection).
"""

from __future__ import annotations

import resource

SPARE = 64  # the process's own files: its modules, logs, the tarball, the cache


def open_files(hosts: int) -> str | None:
    """Make room for ``hosts`` connections; None when there is, else why there cannot be."""
    needed = hosts + SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return None
    if hard != resource.RLIM_INFINITY and hard < needed:
        return (
            f"{hosts} hosts need about {needed} open files, and this process may open at most {hard} "
            "(ulimit -Hn): raise the hard limit (limits.conf, or systemd's LimitNOFILE)"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return None
