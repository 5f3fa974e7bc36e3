#!/usr/bin/env bash
#
# Demo stand-in for Alluxio @VERSION@, written for alluxio-reconcile (none of Alluxio's code).
# Runs a command over ssh on every host of conf/workers, all at once, appending what each
# prints to logs/task.log; remote exit codes are not collected (the script exits 0).
#

LAUNCHER=
# under `bash -x`, the remote side is traced too
if [[ "$-" == *x* ]]; then
  LAUNCHER="bash -x"
fi
BIN=$(cd "$(dirname "$0")"; pwd)

if [[ $# -le 0 ]]; then
  echo "Usage: alluxio-workers.sh command..." >&2
  exit 1
fi

. "${BIN}/../libexec/alluxio-config.sh"

# '#' starts a comment anywhere on a line; empty lines are dropped.
HOSTLIST=$(cat "${ALLUXIO_CONF_DIR}/workers" | sed "s/#.*$//;/^$/d")
# next to bin/, whatever ALLUXIO_LOGS_DIR says; the folder is not created here
ALLUXIO_TASK_LOG="${BIN%bin}logs/task.log"

# Only the remote worker kill is labelled WORKERS; everything else, starting workers too, MASTER.
if [[ "$3" == "alluxio.worker.AlluxioWorker" ]]; then
  LABEL=WORKERS
else
  LABEL=MASTER
fi

for worker in $(echo ${HOSTLIST}); do
  now=$(date +%s%N)
  echo "$(date -d "@${now:0:10}" +"%F %H:%M:%S"),${now:10:3}" >> "${ALLUXIO_TASK_LOG}"
  echo "   INFO ${LABEL}  Connecting to ${worker} as ${USER}..." >> "${ALLUXIO_TASK_LOG}"
#%if 1.2.0
  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no -t ${worker} ${LAUNCHER} \
#%else
  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no -tt ${worker} ${LAUNCHER} \
#%endif
    "${@// /\\ }" >> "${ALLUXIO_TASK_LOG}" 2>&1 &
done

echo "Waiting for ${LABEL} tasks to finish..."
wait
echo "All ${LABEL} tasks finished, please analyze the log at ${ALLUXIO_TASK_LOG}."
