"""The post's cluster (BRIEF section 1), as a pyinfra inventory.

    pyinfra inventory.py deploy.py --data alluxio_tarball=PATH [--data KEY=VALUE ...]

The hosts are pyinfra groups: the master (one; several with ZooKeeper), the workers (the master may be one
too, as in the post), and hosts that leave (managed, but run no Alluxio daemon: a retired
worker). ``ssh_hostname`` is the address every node resolves the host to. To declare another
cluster, edit these lists only. ``server03``, the HDFS namenode, only has to resolve.

The tool's data keys are pyinfra data like any other: ``--data``, host data here,
``group_data/all.py`` or a group's file (see the README), with pyinfra's precedence; they must
be the same for every host:

    alluxio_tarball               local path of the release tarball (required)
    alluxio_env                   extra conf/alluxio-env.sh variables, e.g.
                                  {"JAVA": "/usr/bin/java", "ALLUXIO_WORKER_MEMORY_SIZE": "2GB"}
    alluxio_underfs_address       under storage (default hdfs://server03:8020/alluxio)
    alluxio_version               the release: 1.2.0 (default) or 1.3.0
    alluxio_accept_new_host_keys  true: trust a node whose host key changed (default false)
    alluxio_restart               rolling (default) or all: how workers restart
    alluxio_health_seconds        how long a worker may take to be live (default 30)
    alluxio_master_start_seconds  how long the master may take to serve (default 600)
    alluxio_site                  conf/alluxio-site.properties, e.g.
                                  {"alluxio.worker.block.heartbeat.timeout.ms": 60000}
    alluxio_site_deliberate       keys of alluxio_site the release does not know, kept anyway
    alluxio_tiers                 storage tiers, e.g. [{"alias": "MEM", "quotas": ["2GB"]},
                                  {"alias": "HDD", "dirs": ["/data/alluxio"], "quotas": ["100GB"]}]
    alluxio_zookeeper             fault-tolerant masters (several in alluxio_master): ZooKeeper's
                                  servers, e.g. server03:2181
    alluxio_journal_folder        fault-tolerant masters: the journal folder they share (a mount)

Connection settings are pyinfra's own (``--ssh-user``, ``--sudo``, ``--data ssh_port=...``).
The cluster is built and validated from the loaded inventory before any host is contacted.
"""

from runtime.declaration import resolve_also, validate_before_connecting

alluxio_master = [
    ("server08", {"ssh_hostname": "10.0.1.13"}),
]
alluxio_workers = [
    ("server06", {"ssh_hostname": "10.0.1.11"}),
    ("server07", {"ssh_hostname": "10.0.1.12"}),
    ("server08", {"ssh_hostname": "10.0.1.13"}),
]
alluxio_retired: list[tuple[str, dict[str, str]]] = []  # keep a worker here for one run to retire it
RESOLVE_ONLY = {"server03": "10.0.1.8"}  # the HDFS namenode: resolves everywhere, not managed

resolve_also(RESOLVE_ONLY)
validate_before_connecting()
