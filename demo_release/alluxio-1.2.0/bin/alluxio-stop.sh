#!/usr/bin/env bash
# Demo stand-in for Alluxio 1.2.0 (written for this project).

usage="Usage: alluxio-stop.sh [-h] [all | local | master | worker | workers]"

BIN=$(cd -- "$(dirname -- "$0")" && pwd)
. "${BIN}/../libexec/alluxio-config.sh"

kill_all() {  # $1 = class name: kill every process that has it as an argument
  local pids count
  pids=$(ps -A -ww -o pid= -o args= | awk -v class="$1" '{ for (i = 2; i <= NF; i++) if ($i == class) { print $1; break } }')
  count=0
  for pid in ${pids}; do
    kill "${pid}" 2>/dev/null && count=$((count + 1))
  done
  echo "Killed ${count} processes on $(hostname)"
}

case "${1:-all}" in
  all)
    kill_all alluxio.master.AlluxioMaster
    "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-stop.sh" worker
    ;;
  local)
    kill_all alluxio.master.AlluxioMaster
    kill_all alluxio.worker.AlluxioWorker
    ;;
  master) kill_all alluxio.master.AlluxioMaster ;;
  worker) kill_all alluxio.worker.AlluxioWorker ;;
  workers) "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-stop.sh" worker ;;
  -h) echo "${usage}" ;;
  *) echo "Error: Invalid ACTION $1" >&2; echo "${usage}" >&2; exit 1 ;;
esac
