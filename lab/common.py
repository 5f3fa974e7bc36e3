"""What the lab's parts share: its error, how it runs a command, its names and limits."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from typing import Any

BRIDGE = "br0"
LINK_RATE = re.compile(r"[1-9][0-9]*(\.[0-9]+)?[kmg]?bit")

# Older userlands a host can be given (lab/floor.sh): the post's CentOS 6 and its successor 7.
FLOORS = ("centos6", "centos7")
FLOOR_PROGRAMS = ("tee", "sha256sum", "ssh-keygen", "ssh", "scp")
SHARED = "/mnt/shared"  # on every host: the lab's stand-in for an NFS export (lab/hostinit.py)
ZOOKEEPER_PORT = 2181
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # sshd's default for root


class LabError(Exception):
    """Something the operator must fix; the message says what."""


def run(argv: Sequence[str], check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result
