#!/usr/bin/env bash
# Demo stand-in for Alluxio 1.2.0 (written for this project).

usage="Usage: alluxio-start.sh [-h] ACTION [MOPT] [-f]
ACTION: all | local | master | worker | workers | restart_worker | restart_workers
MOPT:   Mount | SudoMount | NoMount (worker RAM folder; default SudoMount)
-f      format the journal and the workers before starting"

BIN=$(cd -- "$(dirname -- "$0")" && pwd)
. "${BIN}/../libexec/alluxio-config.sh"

check_java() {
  if [[ ! -x "${JAVA}" ]]; then
    echo "Cannot run Java: '${JAVA}' is not an executable (set JAVA in conf/alluxio-env.sh)" >&2
    exit 1
  fi
}

start_daemon() {  # $1 = class, $2 = log name
  mkdir -p -- "${ALLUXIO_LOGS_DIR}"
  nohup setsid python3 "${ALLUXIO_STANDIN}" ${ALLUXIO_DAEMON_OPTS} "$1" \
    >> "${ALLUXIO_LOGS_DIR}/$2.out" 2>&1 < /dev/null &
  local pid=$! i
  # Return only once the daemon has its own session: when this script runs under `ssh -tt`,
  # the hangup that ends the session must not reach a daemon still starting up.
  for i in $(seq 50); do
    [[ "$(ps -o sid= -p "${pid}" | tr -d ' ')" == "${pid}" ]] && return 0
    kill -0 "${pid}" 2>/dev/null || return 1
    sleep 0.1
  done
}

start_master() {
  check_java
  echo "Starting master @ $(hostname -f). Logging to ${ALLUXIO_LOGS_DIR}"
  start_daemon alluxio.master.AlluxioMaster master
}

start_worker() {  # $1 = MOPT
  check_java
  if [[ "$1" != "NoMount" ]]; then
    if ! "${BIN}/alluxio-mount.sh" "$1"; then
      echo "Mount failed, not starting worker" >&2
      exit 1
    fi
  fi
  echo "Starting worker @ $(hostname -f). Logging to ${ALLUXIO_LOGS_DIR}"
  start_daemon alluxio.worker.AlluxioWorker worker
}

ACTION=$1
MOPT=${2:-SudoMount}
[[ "${MOPT}" == "-f" ]] && MOPT=SudoMount
FORMAT=
for arg in "$@"; do [[ "${arg}" == "-f" ]] && FORMAT=yes; done

case "${ACTION}" in
  all)
    "${BIN}/alluxio-stop.sh" all
    [[ -n "${FORMAT}" ]] && "${BIN}/alluxio" format
    start_master
    sleep 1
    "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-start.sh" worker "${MOPT}"
    ;;
  local)
    "${BIN}/alluxio-stop.sh" local
    [[ -n "${FORMAT}" ]] && "${BIN}/alluxio" format
    start_master
    start_worker "${MOPT}"
    ;;
  master) start_master ;;
  worker) start_worker "${MOPT}" ;;
  workers) "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-start.sh" worker "${MOPT}" ;;
  restart_worker) "${BIN}/alluxio-stop.sh" worker; start_worker "${MOPT}" ;;
  restart_workers) "${BIN}/alluxio-workers.sh" "${BIN}/alluxio-start.sh" restart_worker "${MOPT}" ;;
  -h|"") echo "${usage}"; exit 0 ;;
  *) echo "Error: Invalid ACTION ${ACTION}" >&2; echo "${usage}" >&2; exit 1 ;;
esac
