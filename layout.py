"""One place for the release's layout and the tool's own paths: what the model, the facts and
the operations all refer to (paths, markers, modes, the launcher's shapes, the daemons' names).

Read from the releases' published scripts and sources (1.2.0 and 1.3.0); the tool's own files
are its choices, each in one spelling here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# ----- the release ----------------------------------------------------------------------------
# Releases this tool is proven on: each has a demo release that conforms to the real one
# (tests/test_conformance.py) and passes the end-to-end suite. 1.4.0 adds a proxy daemon, a
# `local` stop component and /api/v1 REST paths; 1.1.x and 1.5+ differ again. Refusing them is
# better than guessing.
SUPPORTED_VERSIONS = ("1.2.0", "1.3.0")
REST_PREFIX = "/v1/api"  # the master's REST paths in 1.2.0 and 1.3.0 (1.4.0: /api/v1)
WEB_PORT = 19999  # alluxio.master.web.port
MASTER_CLASS = "alluxio.master.AlluxioMaster"
WORKER_CLASS = "alluxio.worker.AlluxioWorker"
DEFAULT_RAM_FOLDER = "/mnt/ramdisk"  # the release's default ALLUXIO_RAM_FOLDER
DATA_FOLDER = "/alluxioworker/"  # alluxio.worker.data.folder: a worker's blocks, in each tier folder
FORMAT_PREFIX = "_format_"  # alluxio.master.format.file_prefix: a formatted journal's marker


def ram_folder(settings: Mapping[str, str]) -> str:
    """The RAM folder alluxio-env.sh ``settings`` name (the release's default if none)."""
    return settings.get("ALLUXIO_RAM_FOLDER") or DEFAULT_RAM_FOLDER


LAUNCHER_PATH = "bin/alluxio-workers.sh"
WORKERS_PATH = "conf/workers"
ENV_PATH = "conf/alluxio-env.sh"
SITE_PATH = "conf/alluxio-site.properties"
# The release's files the tool writes, with their modes (the launcher as shipped: executable).
# The install-dir check leaves their content to the resources that manage them.
MANAGED_MODES = {LAUNCHER_PATH: "755", WORKERS_PATH: "644", ENV_PATH: "644", SITE_PATH: "644"}
SECRET_SITE_MODE = "600"  # a site file holding credentials: the daemons (root) read it, no one else
MANAGED_FILES = tuple(MANAGED_MODES)
# What a release folder being replaced hands on to its successor: the journal, a local under
# storage, and the files the tool manages (the new folder's own would be the shipped ones).
CARRIED_OVER = ("journal", "underFSStorage", *MANAGED_FILES)
MANAGED_BY = "# Managed by alluxio-reconcile: edits here are drift and will be replaced."

# The launcher's ssh line: `-t ${worker}` before 1.3.0, `-tt ${worker}` from 1.3.0 (PR #3630).
UNPATCHED = "unpatched"
PATCHED = "patched"
UNKNOWN = "unknown"
MISSING = "missing"
_UNPATCHED = re.compile(r"^\s*nohup ssh .* -t \$\{worker\} ", re.M)
_PATCHED = re.compile(r"^\s*nohup ssh .* -tt \$\{worker\} ", re.M)


def patch_launcher(text: str) -> str:
    """The launcher with its ``ssh -t ${worker}`` line made ``ssh -tt ${worker}``."""
    return re.sub(r"^(\s*nohup ssh .*) -t (\$\{worker\} )", r"\1 -tt \2", text, flags=re.M)


def launcher_shape(text: str | None) -> str:
    """:data:`PATCHED`, :data:`UNPATCHED`, :data:`MISSING`, or :data:`UNKNOWN` (both or neither)."""
    if text is None:
        return MISSING
    unpatched, patched = bool(_UNPATCHED.search(text)), bool(_PATCHED.search(text))
    if unpatched and not patched:
        return UNPATCHED
    if patched and not unpatched:
        return PATCHED
    return UNKNOWN


# ----- the tool's own files on the nodes ------------------------------------------------------
MARKER = ".alluxio-reconcile"  # written into the install folder last: "extraction complete"
STATE_DIR = "/etc/alluxio-reconcile"
LOCK = f"{STATE_DIR}/lock"  # on the master, while a converge changes something
RECORD = f"{STATE_DIR}/applied"  # what the last converge applied, for the drift report
RECORD_MODE = "644"
BACKUPS = "/var/backups/alluxio-reconcile"  # the journal's backups (mode 700 folder)
ROOT = ("root", "root")

# ----- system files the tool manages, with their modes -----------------------------------------
ETC_HOSTS_MODE = "644"
SSH_DIR_MODE = "700"
PRIVATE_KEY_MODE = "600"
PUBLIC_KEY_MODE = "644"
AUTHORIZED_KEYS_MODE = "600"
KNOWN_HOSTS_MODE = "644"
