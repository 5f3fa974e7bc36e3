"""Converge the inventory's hosts into the Alluxio cluster the post builds by hand, and keep it
there through day two (a version change, workers added or retired, changed settings).

    pyinfra inventory.py deploy.py -y --data alluxio_tarball=PATH     # converge
    pyinfra inventory.py deploy.py --dry --diff --data ...            # what would change

One line of intent per step of the post (BRIEF section 1); every operation compares the
declared state with the node's and changes only what differs. Steps of the master run on the
master only; every other step runs on every host, the master included: pyinfra orders the
operations by each host's sequence, so the master's sequence must hold them all.
"""

from pyinfra import host

import heal
from operations import (
    conf,
    hosts,
    journal,
    preflight,
    record,
    release,
    services,
    ssh,
    tiers,
)
from runtime import closing, lock, pyinfra_patches, schedule
from runtime.declaration import current

pyinfra_patches.lighten()  # pyinfra's bookkeeping per operation and host, the same results cheaper

master = host.name == current().master
todo = schedule.schedule()  # decided once, on the state before anything changes
heal.guard(current(), schedule.snapshots())  # a self-heal's converge: the drift it decided on, or nothing
lock.one_converge_at_a_time(todo.anything_to_change)  # a lock on the master while changing
closing.at_the_end()  # which hosts changed what, once the last operation ended

preflight.node_ready(name="0. The node has what the release needs")
services.stopped(
    name="1. Stop Alluxio before replacing the folder it runs from",
    when=host.name in todo.stop_first,
    why=todo.why,
)
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
conf.alluxio_site(name="6. conf/alluxio-site.properties is as declared, and the one the daemons load")
tiers.folders_ready(name="6. Each worker's disk tier folders are there, marked")
release.launcher_patched(name="7. The launcher says ssh -tt")
services.stopped(name="8. Stop the release being left (a version change)", when=todo.switch, why=todo.why)
if master:
    journal.in_place(name="8. The journal is in the release that runs: formatted once, carried over")
services.retired(name="8. Hosts run no daemon they are not declared for")
services.master_started(name="8. The master runs and serves", when=host.name in todo.start_masters)
services.masters_rolled(name="8. Masters restart one at a time, the leader last", order=todo.roll_masters)
services.workers_started(name="8. Workers run, started once the master serves", together=todo.together)
services.restarted(
    name="8. Workers restart one at a time", rolling=todo.rolling, rejoin=todo.rejoin, _serial=True
)
if master:
    services.healthy(name="9. The master counts every worker as live")
release.pruned(name="10. Only the previous release stays beside this one")
record.applied(name="11. Record what this converge applied (for the drift report)")
