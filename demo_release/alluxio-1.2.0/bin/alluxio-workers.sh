#!/usr/bin/env bash
# Demo stand-in for Alluxio 1.2.0 (written for this project).
# Runs a command on every host named in conf/workers, over ssh, all at once, and appends
# their output to logs/task.log. Exit codes of the remote commands are not collected.

usage="Usage: alluxio-workers.sh command..."
if [[ $# -le 0 ]]; then
  echo "${usage}"
  exit 1
fi

BIN=$(cd -- "$(dirname -- "$0")" && pwd)
. "${BIN}/../libexec/alluxio-config.sh"

# comments and blank lines are not hosts
HOSTLIST=$(sed -e 's/#.*$//' -e '/^[[:space:]]*$/d' "${ALLUXIO_CONF_DIR}/workers")
LAUNCHER=${ALLUXIO_LAUNCHER:-}
mkdir -p -- "${ALLUXIO_LOGS_DIR}"

for worker in $(echo ${HOSTLIST}); do
  echo "Connecting to ${worker} as ${USER:-$(id -un)}..." >> "${ALLUXIO_TASK_LOG}"
  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no -t ${worker} ${LAUNCHER} \
    "$@" 2>&1 | while read -r line; do echo "[${worker}] ${line}"; done >> "${ALLUXIO_TASK_LOG}" &
done

echo "Waiting for WORKERS tasks to finish..."
wait
echo "All WORKERS tasks finished, please analyze the log at ${ALLUXIO_TASK_LOG}."
