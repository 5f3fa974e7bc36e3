#!/usr/bin/env bash
# The main job: build the demo release, bring up the lab (the post's four hosts), converge them
# into an Alluxio cluster with the deploy, and show it healthy as the master sees it. Run again,
# it repairs the lab if needed and converges nothing new. The lab stays up afterwards;
# `.venv/bin/python -m lab down` removes it. Exit status: the status check's (0 all live).
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv/bin/python
TARBALL=build/alluxio-1.2.0-cdh5-bin.tar.gz

$PY -m demo_release --out build
$PY -m lab up
$PY -m lab run .venv/bin/pyinfra inventory.py deploy.py -y --data "alluxio_tarball=$TARBALL"

echo
echo "--> The cluster as its master's REST API lists it, from the control namespace:"
status=0
$PY -m lab run "$PY" status.py inventory.py --data "alluxio_tarball=$TARBALL" || status=$?
cat <<'HELP'

--> To look for yourself:
    .venv/bin/python -m lab run curl -s http://server08:19999/v1/api/master/worker_info_list
    .venv/bin/python -m lab run curl -s http://server08:19999/home
    .venv/bin/python -m lab forward server08 19999    # then a browser at http://127.0.0.1:19999/
    .venv/bin/python -m lab down                       # remove the lab
HELP
exit "$status"
