#!/usr/bin/env bash
# The main job: build the demo release, bring up the lab (the post's four hosts), converge them
# into an Alluxio cluster with the deploy, and show it healthy as the master sees it. Run again,
# it repairs the lab if needed and converges nothing new. The lab stays up afterwards;
# `.venv/bin/python -m lab down` removes it. Exit status: the status check's (0 all live).
#
# `./demo.sh --fault-tolerant`: the same hosts with a second master (server07), electing their
# leader through a real ZooKeeper server the lab runs on server03, the journal in the lab's
# shared folder (run `python -m lab reset` first on a lab the plain demo converged).
set -euo pipefail
cd "$(dirname "$0")"
PY=.venv/bin/python
TARBALL=build/alluxio-1.2.0-cdh5-bin.tar.gz
INVENTORY=inventory.py
DATA=(--data "alluxio_tarball=$TARBALL")

FT=
case "${1:-}" in
  --fault-tolerant) FT=1 ;;
  "") ;;
  *) echo "usage: ./demo.sh [--fault-tolerant]" >&2; exit 2 ;;
esac

$PY -m demo_release --out build
$PY -m lab up
if [[ -n "$FT" ]]; then
  zookeeper=$($PY -m lab zookeeper server03 --tick-ms 500)
  INVENTORY=$($PY -m bench.inventories fault-tolerant build/fault-tolerant)
  DATA+=(--data "alluxio_zookeeper=$zookeeper" --data "alluxio_journal_folder=/mnt/shared/alluxio/journal")
fi
$PY -m lab run .venv/bin/pyinfra "$INVENTORY" deploy.py -y "${DATA[@]}"

echo
echo "--> The cluster as its master's REST API lists it, from the control namespace:"
status=0
$PY -m lab run "$PY" status.py "$INVENTORY" "${DATA[@]}" || status=$?
cat <<'HELP'

--> To look for yourself:
    .venv/bin/python -m lab run curl -s http://server08:19999/v1/api/master/worker_info_list
    .venv/bin/python -m lab run curl -s http://server08:19999/home
    .venv/bin/python -m lab forward server08 19999    # then a browser at http://127.0.0.1:19999/
    .venv/bin/python -m lab down                       # remove the lab
HELP
exit "$status"
