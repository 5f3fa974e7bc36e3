"""The post's cluster (BRIEF section 1), as a pyinfra inventory and the desired-state model.

    pyinfra inventory.py deploy.py --data alluxio_tarball=PATH [--data KEY=VALUE ...]

Managed hosts are the pyinfra hosts below (``ssh_hostname`` is the address every node resolves
the host to); ``server03``, the HDFS namenode, only has to resolve. Connection settings come
from pyinfra's own options (``--ssh-user``, ``--ssh-key``, ``--ssh-password-prompt``,
``--data ssh_port=...``). The data keys of this tool:

    alluxio_tarball               local path of the release tarball (required)
    alluxio_env                   extra conf/alluxio-env.sh variables, a JSON object, e.g.
                                  '{"JAVA": "/usr/bin/java", "ALLUXIO_WORKER_MEMORY_SIZE": "2GB"}'
    alluxio_underfs_address       under storage (default hdfs://server03:8020/alluxio)
    alluxio_version               the release (default 1.2.0)
    alluxio_accept_new_host_keys  true: trust a node whose host key changed (default false)

The model is built and validated here, while pyinfra loads the inventory: a bad inventory is
refused before any host is contacted.
"""

import sys

from cluster import InventoryError, cli_data, declare

hosts = [
    ("server08", {"ssh_hostname": "10.0.1.13"}),
    ("server06", {"ssh_hostname": "10.0.1.11"}),
    ("server07", {"ssh_hostname": "10.0.1.12"}),
]
MASTER = "server08"
WORKERS = ["server06", "server07", "server08"]
RESOLVE_ONLY = {"server03": "10.0.1.8"}  # the HDFS namenode: resolves everywhere, not managed

try:
    CLUSTER = declare(hosts, MASTER, WORKERS, RESOLVE_ONLY, cli_data())
except InventoryError as error:
    print(f"inventory.py: {error}", file=sys.stderr)
    sys.exit(2)
