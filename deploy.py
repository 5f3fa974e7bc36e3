"""Converge the inventory's hosts into the Alluxio cluster the post builds by hand.

    pyinfra inventory.py deploy.py -y --data alluxio_tarball=PATH     # converge
    pyinfra inventory.py deploy.py --dry --diff --data ...            # what would change

One line of intent per step of the post (BRIEF section 1); every operation compares the
declared state with the node's and changes only what differs. Steps of the master run on the
master only; every other step runs on every host, the master included: pyinfra orders the
operations by each host's sequence, so the master's sequence must hold them all.
"""

from pyinfra import host

from cluster import current
from operations import conf, hosts, lock, preflight, record, release, services, ssh, util

util.name_deploy_file(__file__)  # pyinfra inspects the call stack per operation: keep it cheap

master = host.name == current().master
plan = services.plan()  # decided once, on the state before anything changes
lock.one_converge_at_a_time(plan.anything_to_change)  # a lock on the master while changing

preflight.node_ready(name="0. The node has what the release needs")
services.stopped(name="1. Stop Alluxio before changing what it runs from", when=plan.stop_first)
hosts.etc_hosts(name="2. Every cluster name resolves on every node")
if master:
    ssh.key_pair(name="3. The master has a key pair")
ssh.authorized_keys(name="3. The master's key is authorized on every node")
if master:
    ssh.known_hosts(name="3. The master knows every node's host key")
    release.tarball_uploaded(name="4. The tarball is on the master, sent from here")
release.tarball_distributed(name="4. The tarball is on every other node, sent from the master")
release.extracted(name="4. The release is extracted, complete, root:root")
conf.workers_file(name="5. conf/workers lists exactly the workers")
conf.alluxio_env(name="6. conf/alluxio-env.sh is as declared")
release.launcher_patched(name="7. The launcher says ssh -tt")
if master:
    services.formatted(name="8. The journal is formatted, once")
services.started(name="8. Alluxio runs", start_all=plan.start_all)
if master:
    services.healthy(name="9. The master counts every worker as live")
record.applied(name="10. Record what this converge applied (for the drift report)")
