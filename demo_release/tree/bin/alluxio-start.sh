#!/usr/bin/env bash
#
# Demo stand-in for Alluxio @VERSION@, written for alluxio-reconcile (none of Alluxio's code).
# Starts the master here and a worker on every host of conf/workers, as the release's
# bin/alluxio-start.sh does from the outside: arguments, messages, exit codes, task.log.
#

LAUNCHER=
# under `bash -x`, the scripts this one calls are traced too
if [[ "$-" == *x* ]]; then
  LAUNCHER="bash -x"
fi
BIN=$(cd "$(dirname "$0")"; pwd)
#%if 1.3.0
echo "${BIN}"
#%endif

USAGE="Usage: alluxio-start.sh [-hNw] ACTION [MOPT] [-f]
Where ACTION is one of:
  all [MOPT]     \tStart master and all workers.
  local [MOPT]   \tStart a master and worker locally.
  master         \tStart the master on this node.
  safe           \tScript will run continuously and start the master if it's not running.
  worker [MOPT]  \tStart a worker on this node.
  workers [MOPT] \tStart workers on worker nodes.
  restart_worker \tRestart a failed worker on this node.
  restart_workers\tRestart any failed workers on worker nodes.
MOPT (Mount Option) is one of:
  Mount    \tMount the configured RamFS. Notice: this will format the existing RamFS.
  SudoMount\tMount the configured RamFS using sudo.
           \tNotice: this will format the existing RamFS.
  NoMount  \tDo not mount the configured RamFS.
           \tNotice: Use NoMount (Linux only) to use tmpFS to avoid sudo requirement.
  SudoMount is assumed if MOPT is specified.

-f  format Journal, UnderFS Data and Workers Folder on master
-N  do not try to kill prior running masters and/or workers in all or local
-w  wait for processes to end before returning
-h  display this help."

. "${BIN}/../libexec/alluxio-config.sh"

if [[ ! -d "${ALLUXIO_LOGS_DIR}" ]]; then
  echo "ALLUXIO_LOGS_DIR: ${ALLUXIO_LOGS_DIR}"
  mkdir -p "${ALLUXIO_LOGS_DIR}"
fi

# True when the RAM folder is, or lies under, a mounted tmpfs or ramfs.
ram_folder_is_mounted() {
  local mounted
  mounted=$(awk -v dir="${ALLUXIO_RAM_FOLDER%/}" \
    '($3 == "tmpfs" || $3 == "ramfs") && (dir == $2 || index(dir, $2 "/") == 1) { print $2 }' /proc/mounts)
  [[ -n "${mounted}" ]]
}

check_mount_mode() {
  case "$1" in
    Mount|SudoMount) ;;
    NoMount)
      if ! ram_folder_is_mounted; then
        if [[ $(uname -s) == Darwin ]]; then
          echo "ERROR: NoMount is not supported on Mac OS X." >&2
          echo -e "${USAGE}" >&2
          exit 1
        fi
        echo "WARNING: Overriding ALLUXIO_RAM_FOLDER to /dev/shm to use tmpFS now."
        export ALLUXIO_RAM_FOLDER=/dev/shm
        . "${BIN}/../libexec/alluxio-config.sh"
      fi
      if [[ "${ALLUXIO_RAM_FOLDER}" == /dev/shm || "${ALLUXIO_RAM_FOLDER}" == /dev/shm/ ]]; then
        echo "WARNING: Using tmpFS which is not guaranteed to be in memory."
        echo "WARNING: Check vmstat for memory statistics (e.g. swapping)."
      fi
      ;;
    *)
      echo "Invalid mount mode: $1" >&2
      echo -e "${USAGE}" >&2
      exit 1
      ;;
  esac
}

# Is a JVM with this main class running here? (the release looks at `ps -ef`)
running() {
  ps -ef | grep "$1" | grep -q "java"
}

stop() {
  "${BIN}/alluxio-stop.sh" all
}

start_master() {
  if [[ "$1" == "-f" ]]; then
    ${LAUNCHER} "${BIN}/alluxio" format
  fi
  echo "Starting master @ ${ALLUXIO_MASTER_HOSTNAME:-localhost}. Logging to ${ALLUXIO_LOGS_DIR}"
  (nohup ${JAVA} -cp ${CLASSPATH} ${ALLUXIO_MASTER_JAVA_OPTS} alluxio.master.AlluxioMaster \
    > "${ALLUXIO_LOGS_DIR}/master.out" 2>&1) &
}

start_worker() {
  # NoMount mounts nothing (check_mount_mode has chosen the folder)
  if [[ "$1" != NoMount ]] && ! ${LAUNCHER} "${BIN}/alluxio-mount.sh" "$1"; then
    echo "Mount failed, not starting worker" >&2
    exit 1
  fi
  do_start_worker
}

do_start_worker() {
  echo "Starting worker @ $(hostname -f). Logging to ${ALLUXIO_LOGS_DIR}"
  (nohup ${JAVA} -cp ${CLASSPATH} ${ALLUXIO_WORKER_JAVA_OPTS} alluxio.worker.AlluxioWorker \
    > "${ALLUXIO_LOGS_DIR}/worker.out" 2>&1) &
}

restart_worker() {
  if ! running alluxio.worker.AlluxioWorker; then
    echo "Restarting worker @ $(hostname -f). Logging to ${ALLUXIO_LOGS_DIR}"
    (nohup ${JAVA} -cp ${CLASSPATH} ${ALLUXIO_WORKER_JAVA_OPTS} alluxio.worker.AlluxioWorker \
      > "${ALLUXIO_LOGS_DIR}/worker.out" 2>&1) &
  fi
}

run_safe() {
  while true; do
    if ! running alluxio.master.AlluxioMaster; then
      echo "Restarting the system master..."
      start_master
    fi
    echo "Alluxio is running... "
    sleep 2
  done
}

# Options come before ACTION only.
KILL_FIRST=yes
WAIT=
while getopts "hNw" option; do
  case "${option}" in
    h) echo -e "${USAGE}"; exit 0 ;;
    N) KILL_FIRST= ;;
    w) WAIT=yes ;;
    *) echo -e "${USAGE}" >&2; exit 1 ;;
  esac
done
shift $((OPTIND - 1))

ACTION=$1
if [[ -z "${ACTION}" ]]; then
  echo "Error: no ACTION specified" >&2
  echo -e "${USAGE}" >&2
  exit 1
fi
shift

MOPT=
case "${ACTION}" in
  all|worker|workers|local)
    if [[ -z "$1" || "$1" == "-f" ]]; then
      MOPT=SudoMount
    else
      MOPT=$1
      shift
    fi
    check_mount_mode "${MOPT}"
    ;;
esac

FORMAT=$1
if [[ -n "${FORMAT}" && "${FORMAT}" != "-f" ]]; then
  echo -e "${USAGE}" >&2
  exit 1
fi

case "${ACTION}" in
  all)
    [[ -n "${KILL_FIRST}" ]] && stop
    start_master "${FORMAT}"
    sleep 2
    ${LAUNCHER} "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-start.sh" worker "${MOPT}"
    ;;
  local)
    if [[ -n "${KILL_FIRST}" ]]; then
      stop
      sleep 1
    fi
    start_master "${FORMAT}"
    sleep 2
    start_worker "${MOPT}"
    ;;
  master)
    start_master "${FORMAT}"
    ;;
  worker)
    start_worker "${MOPT}"
    ;;
  workers)
    # the master's host name lands where FORMAT is expected: no worker starts (fixed in 1.4.0)
    ${LAUNCHER} "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-start.sh" worker "${MOPT}" \
      ${ALLUXIO_MASTER_HOSTNAME}
    ;;
  restart_worker)
    restart_worker
    ;;
  restart_workers)
    ${LAUNCHER} "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-start.sh" restart_worker
    ;;
  safe)
    run_safe
    ;;
  *)
    echo "Error: Invalid ACTION: ${ACTION}" >&2
    echo -e "${USAGE}" >&2
    exit 1
    ;;
esac

sleep 2
if [[ -n "${WAIT}" ]]; then
  wait
fi
exit 0
