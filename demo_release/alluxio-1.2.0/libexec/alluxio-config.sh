#!/usr/bin/env bash
# Demo stand-in for Alluxio 1.2.0 (written for this project): sourced by every script in bin/.
# Finds the release, fixes JAVA, then reads conf/alluxio-env.sh, which must exist.

_alluxio_libexec=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ALLUXIO_HOME=$(dirname -- "${_alluxio_libexec}")
ALLUXIO_CONF_DIR=${ALLUXIO_CONF_DIR:-${ALLUXIO_HOME}/conf}
ALLUXIO_LOGS_DIR=${ALLUXIO_LOGS_DIR:-${ALLUXIO_HOME}/logs}

# As in the real 1.2.0, JAVA comes from PATH *before* alluxio-env.sh is read: a JAVA_HOME set
# there changes nothing, JAVA=/path/to/java set there does (Alluxio issues #4459, #12250).
if [[ -z "${JAVA_HOME}" ]]; then
  _alluxio_java=$(command -v java)
  [[ -n "${_alluxio_java}" ]] && JAVA_HOME=$(dirname -- "$(dirname -- "$(readlink -f -- "${_alluxio_java}")")")
fi
JAVA=${JAVA:-${JAVA_HOME}/bin/java}

if [[ ! -e "${ALLUXIO_CONF_DIR}/alluxio-env.sh" ]]; then
  echo "Cannot find ${ALLUXIO_CONF_DIR}/alluxio-env.sh; copy alluxio-env.sh.template there and edit it." >&2
  exit 1
fi
. "${ALLUXIO_CONF_DIR}/alluxio-env.sh"

ALLUXIO_MASTER_HOSTNAME=${ALLUXIO_MASTER_HOSTNAME:-localhost}
ALLUXIO_RAM_FOLDER=${ALLUXIO_RAM_FOLDER:-/mnt/ramdisk}
ALLUXIO_WORKER_MEMORY_SIZE=${ALLUXIO_WORKER_MEMORY_SIZE:-1GB}
ALLUXIO_UNDERFS_ADDRESS=${ALLUXIO_UNDERFS_ADDRESS:-${ALLUXIO_HOME}/underFSStorage}
ALLUXIO_JOURNAL_FOLDER=${ALLUXIO_JOURNAL_FOLDER:-${ALLUXIO_HOME}/journal}
ALLUXIO_TASK_LOG=${ALLUXIO_LOGS_DIR}/task.log

# The daemons are small Python stand-ins; their command line carries the Java class name so
# that stop finds them as it finds the real JVMs.
ALLUXIO_STANDIN=${ALLUXIO_HOME}/lib/alluxio-standin.py
ALLUXIO_DAEMON_OPTS="-Dalluxio.home=${ALLUXIO_HOME} -Dalluxio.logs.dir=${ALLUXIO_LOGS_DIR}
 -Dalluxio.master.hostname=${ALLUXIO_MASTER_HOSTNAME} -Dalluxio.master.journal.folder=${ALLUXIO_JOURNAL_FOLDER}
 -Dalluxio.worker.data.folder=${ALLUXIO_RAM_FOLDER} -Dalluxio.underfs.address=${ALLUXIO_UNDERFS_ADDRESS}"
