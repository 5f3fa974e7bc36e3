#!/usr/bin/env bash
#
# Demo stand-in for Alluxio @VERSION@, written for alluxio-reconcile (none of Alluxio's code).
# Stops Alluxio's daemons, here and over ssh on the hosts of conf/workers, as the release's
# bin/alluxio-stop.sh does from the outside: components, messages, exit codes.
#

LAUNCHER=
# under `bash -x`, the scripts this one calls are traced too
if [[ "$-" == *x* ]]; then
  LAUNCHER="bash -x"
fi
BIN=$(cd "$(dirname "$0")"; pwd)

USAGE="Usage: alluxio-stop.sh [-h] [component]
Where component is one of:
  all\t\t\tStop local master/worker and remote workers. Default.
  master\t\tStop local master.
  worker\t\tStop local worker.
  workers\t\tStop local worker and all remote workers.

-h  display this help."

# Every kill goes through `bin/alluxio killAll`, which reads the configuration.
kill_local() {
  ${LAUNCHER} "${BIN}/alluxio" killAll "$1"
}

kill_remote_workers() {
  ${LAUNCHER} "${BIN}/alluxio-workers.sh" "${BIN}/alluxio" killAll alluxio.worker.AlluxioWorker
}

# Only the first argument counts; without one, the help is shown and nothing is stopped.
WHAT=${1:--h}
case "${WHAT}" in
  all)
    kill_local alluxio.master.AlluxioMaster
    kill_local alluxio.worker.AlluxioWorker
    kill_remote_workers
    ;;
  master)
    kill_local alluxio.master.AlluxioMaster
    ;;
  worker)
    kill_local alluxio.worker.AlluxioWorker
    ;;
  workers)
    kill_local alluxio.worker.AlluxioWorker
    kill_remote_workers
    ;;
  -h)
    echo -e "${USAGE}"
    exit 0
    ;;
  *)
    echo "Error: Invalid component: ${WHAT}" >&2
    echo -e "${USAGE}" >&2
    exit 1
    ;;
esac
